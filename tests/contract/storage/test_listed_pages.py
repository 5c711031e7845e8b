"""The listing's pages kept with the sync state: read back as written, written when changed."""

from __future__ import annotations

from gharts_core.model import LabelType, ObservedLabel, ObservedRunner
from gharts_core.ports.github import ListedPage
from gharts_core.ports.storage import Store


def _page(n: int, etag: str, *, last: bool = False) -> ListedPage:
    runner = ObservedRunner(
        id=n,
        name=f"runner-{n}",
        os="Linux",
        status="online",
        busy=n % 2 == 0,
        labels=(
            ObservedLabel("self-hosted", LabelType.READ_ONLY),
            ObservedLabel("gpu", LabelType.CUSTOM),
        ),
        runner_group_id=1,
        ephemeral=True,
    )
    url = f"https://api.github.test/orgs/acme/actions/runners?per_page=100&page={n}"
    following = (
        None
        if last
        else f"https://api.github.test/orgs/acme/actions/runners?per_page=100&page={n + 1}"
    )
    return ListedPage(url=url, etag=etag, runners=(runner,), next_url=following)


async def _save(store: Store, pages: list[ListedPage]) -> int:
    async with store.unit_of_work() as uow:
        return await uow.sync_state.save_listed_pages(pages)


async def _read(store: Store) -> list[ListedPage]:
    async with store.unit_of_work(read_only=True) as uow:
        return list(await uow.sync_state.listed_pages())


async def test_no_pages_are_kept_before_the_first_cycle(store: Store) -> None:
    assert [] == await _read(store)


async def test_pages_read_back_in_order_with_every_field(store: Store) -> None:
    pages = [_page(1, 'W/"a"'), _page(2, 'W/"b"'), _page(3, 'W/"c"', last=True)]

    written = await _save(store, pages)

    assert (3, pages) == (written, await _read(store))


async def test_saving_the_same_pages_again_writes_nothing(store: Store) -> None:
    pages = [_page(1, 'W/"a"'), _page(2, 'W/"b"', last=True)]
    await _save(store, pages)

    assert 0 == await _save(store, pages)


async def test_only_changed_and_vanished_pages_are_written(store: Store) -> None:
    await _save(store, [_page(1, 'W/"a"'), _page(2, 'W/"b"'), _page(3, 'W/"c"', last=True)])
    now = [_page(1, 'W/"a"'), _page(2, 'W/"b2"', last=True)]

    written = await _save(store, now)

    assert (2, now) == (written, await _read(store))
