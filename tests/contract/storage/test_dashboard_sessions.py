"""Dashboard sessions: stored at login, found by key, ended by logout, by user, or by expiry."""

from __future__ import annotations

import pytest

from gharts_core.errors import Conflict
from gharts_core.model import AuditAction, Principal, PrincipalKind, User
from gharts_core.ports.storage import AuditFilter, DashboardSession, Page, Store
from gharts_core.services.admin_users import UpdateUser, UserAdminService
from gharts_core.testing.clock import FakeClock
from tests.contract.storage.storage_support import make_user, minutes

ISSUER = "https://idp.example.com/"


def _session(key: str, user: User, *, expires_after: float = 60) -> DashboardSession:
    return DashboardSession(
        key=key,
        user_id=user.id,
        issuer=ISSUER,
        subject=f"sub-{user.email}",
        created_at=minutes(0),
        expires_at=minutes(expires_after),
    )


@pytest.fixture
async def people(store: Store) -> tuple[User, User]:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    async with store.unit_of_work() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
    return alice, bob


async def test_a_stored_session_is_found_by_its_key_with_every_field(
    store: Store, people: tuple[User, User]
) -> None:
    alice, _ = people
    session = _session("k" * 64, alice)
    async with store.unit_of_work() as uow:
        await uow.dashboard_sessions.add(session)
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.get("k" * 64) == session
        assert await uow.dashboard_sessions.get("other") is None


async def test_a_key_is_stored_once(store: Store, people: tuple[User, User]) -> None:
    alice, bob = people
    async with store.unit_of_work() as uow:
        await uow.dashboard_sessions.add(_session("same", alice))
    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await uow.dashboard_sessions.add(_session("same", bob))
    async with store.unit_of_work() as uow:
        found = await uow.dashboard_sessions.get("same")
    assert found is not None
    assert found.user_id == alice.id


async def test_logout_ends_one_session_and_only_once(
    store: Store, people: tuple[User, User]
) -> None:
    alice, _ = people
    async with store.unit_of_work() as uow:
        await uow.dashboard_sessions.add(_session("one", alice))
        await uow.dashboard_sessions.add(_session("two", alice))
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.delete("one") is True
        assert await uow.dashboard_sessions.delete("one") is False
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.get("one") is None
        assert await uow.dashboard_sessions.get("two") is not None


async def test_ending_a_users_sessions_leaves_the_others(
    store: Store, people: tuple[User, User]
) -> None:
    alice, bob = people
    async with store.unit_of_work() as uow:
        await uow.dashboard_sessions.add(_session("a1", alice))
        await uow.dashboard_sessions.add(_session("a2", alice))
        await uow.dashboard_sessions.add(_session("b1", bob))
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.delete_for_user(alice.id) == 2
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.get("a1") is None
        assert await uow.dashboard_sessions.get("b1") is not None


async def test_the_purge_forgets_sessions_expired_at_or_before_now(
    store: Store, people: tuple[User, User]
) -> None:
    alice, _ = people
    async with store.unit_of_work() as uow:
        await uow.dashboard_sessions.add(_session("early", alice, expires_after=10))
        await uow.dashboard_sessions.add(_session("exact", alice, expires_after=20))
        await uow.dashboard_sessions.add(_session("later", alice, expires_after=30))
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.purge_expired(minutes(20)) == 2
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.get("exact") is None
        assert await uow.dashboard_sessions.get("later") is not None


async def test_a_rolled_back_login_leaves_no_session(
    store: Store, people: tuple[User, User]
) -> None:
    alice, _ = people

    async def failing_login() -> None:
        async with store.unit_of_work() as uow:
            await uow.dashboard_sessions.add(_session("gone", alice))
            raise RuntimeError("the login failed after the insert")

    with pytest.raises(RuntimeError):
        await failing_login()
    async with store.unit_of_work() as uow:
        assert await uow.dashboard_sessions.get("gone") is None


async def test_a_deactivation_ends_the_users_sessions_in_its_unit_of_work(
    store: Store, people: tuple[User, User]
) -> None:
    """Deactivating (by command or by patch) deletes the person's sessions and audits how many."""
    alice, bob = people
    admin = make_user("root@example.com", admin=True)
    async with store.unit_of_work() as uow:
        await uow.users.add(admin)
        await uow.dashboard_sessions.add(_session("a1", alice))
        await uow.dashboard_sessions.add(_session("a2", alice))
        await uow.dashboard_sessions.add(_session("b1", bob))
        await uow.dashboard_sessions.add(_session("root", admin))
    users = UserAdminService(store, FakeClock(minutes(1)))
    acting = Principal(
        kind=PrincipalKind.USER,
        id=admin.id,
        name=admin.email,
        is_admin=True,
        capabilities=admin.capabilities,
        team_ids=frozenset(),
        email=admin.email,
    )

    await users.deactivate_user(acting, alice.id, "left the company")
    await users.update_user(acting, bob.id, UpdateUser(is_active=False))
    with pytest.raises(Conflict):  # the last active admin: refused, and its session stays
        await users.deactivate_user(acting, admin.id, "oops")

    async with store.unit_of_work() as uow:
        remaining = [await uow.dashboard_sessions.get(key) for key in ("a1", "a2", "b1", "root")]
        rows = await uow.audit.list(AuditFilter(), Page(limit=10))
    ended = {
        row.details["email"]: row.details["sessions_ended"]
        for row in rows.items
        if row.action in (AuditAction.USER_DEACTIVATE, AuditAction.USER_UPDATE)
    }
    assert [None, None, None, "root"] == [s and s.key for s in remaining]
    assert {"alice@example.com": 2, "bob@example.com": 1} == ended
