"""The list pages' shared pieces: the count, filters and pager values, and the pager's markup."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gharts_core.model import AuditOutcome
from gharts_core.services.admin_audit import AuditQuery
from gharts_http.dashboard.controllers._admin_forms import (
    MAX_OFFSET,
    form_values,
    listing,
    offset_of,
)
from gharts_http.dashboard.pages import render


def test_the_pager_links_keep_the_filters_that_are_set_and_stop_at_either_end() -> None:
    """Page 2 of 3 links to pages 1 and 3 with the non-empty filters; the ends link one way."""
    filters = {"team": "demo", "status": "", "label": "gpu"}

    middle = listing("/", filters, 2, 101)
    first, last = listing("/", filters, 1, 101), listing("/", filters, 3, 101)

    assert {
        "total": 101,
        "filters": filters,
        "page_number": 2,
        "pages": 3,
        "previous": "/?team=demo&label=gpu&page_number=1",
        "next": "/?team=demo&label=gpu&page_number=3",
    } == middle
    assert (None, "/?team=demo&label=gpu&page_number=2") == (first["previous"], first["next"])
    assert ("/?team=demo&label=gpu&page_number=2", None) == (last["previous"], last["next"])
    assert 1 == listing("/admin/users", {}, 1, 0)["pages"]


def test_a_query_is_shown_again_in_field_order_as_its_form_sends_it() -> None:
    """Text as typed, a choice by value, a time in UTC for datetime-local, no filter empty."""
    since = datetime(2026, 1, 31, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    query = AuditQuery(actor="ops", outcome=AuditOutcome.DENIED, since=since)

    assert [
        ("actor", "ops"),
        ("action", ""),
        ("team", ""),
        ("target", ""),
        ("outcome", "denied"),
        ("since", "2026-01-31T09:30"),
        ("until", ""),
    ] == list(form_values(query).items())


def test_a_page_number_is_at_least_one_and_its_offset_bounded() -> None:
    """A hand-edited page number is neither below 1 nor a huge OFFSET."""
    assert [(1, 0), (1, 0), (3, 100), (10**9, MAX_OFFSET)] == [
        offset_of(n) for n in (-5, 1, 3, 10**9)
    ]


def test_the_pager_shows_only_when_there_is_more_than_one_page() -> None:
    """The pager links the previous and next pages, keeping the filters; one page has none."""
    shown = _runner_table(listing("/", {"label": "gpu"}, 2, 120))
    alone = _runner_table(listing("/", {}, 1, 50))

    assert 'href="/?label=gpu&amp;page_number=1" rel="prev"' in shown
    assert 'href="/?label=gpu&amp;page_number=3" rel="next"' in shown
    assert "Page 2 of 3" in shown
    assert ("pager" in alone, "50 runners" in alone) == (False, True)


def _runner_table(paging: dict[str, object]) -> str:
    return render("_runner_table.html", {"runners": [], "live_url": None, **paging})
