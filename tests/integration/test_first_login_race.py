"""Concurrent first requests of a person gharts has never seen (issue 12: "all five got 403").

The person exists by email, created by an admin, with no (issuer, subject) binding yet: every
one of their first requests, sent at once, binds or finds the binding, and none is refused.
The requests run concurrently in the app's own event loop (the test client would send them one
after another), each on a connection of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx

from tests.integration.api_support import ADMIN_EMAIL, Api, running_api

REQUESTS = 8
PERSON = "first@example.com"
NEW_ADMIN = "new-admin@example.com"  # a bootstrap admin: the first login creates the row


async def _at_once(api: Api, *logins: dict[str, str]) -> list[httpx.Response]:
    """Send ``REQUESTS`` first requests of each login at once, interleaved; answers in order."""
    transport = httpx.ASGITransport(app=cast("Any", api.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gharts.test") as http:
        calls = [
            http.get("/api/v1/auth/me", headers=headers)
            for _ in range(REQUESTS)
            for headers in logins
        ]
        return list(await asyncio.gather(*calls))


async def test_concurrent_first_requests_of_a_new_person_all_succeed(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_user(PERSON, "alpha")

    answers = api.http.blocking_portal.call(_at_once, api, dict(api.as_user(PERSON)))

    admin = api.as_admin()
    binds = await api.call("GET", "/api/v1/admin/audit", admin, params={"action": "user.bind"})
    refusals = await api.call(
        "GET", "/api/v1/admin/security-events", admin, params={"type": "unauthorized_access"}
    )
    assert [200] * REQUESTS == [answer.status_code for answer in answers], [
        answer.text for answer in answers
    ]
    assert {f"dev|{PERSON}"} == {answer.json()["subject"] for answer in answers}
    assert (200, 200) == (binds.status_code, refusals.status_code)
    assert (1, []) == (len(binds.json()["events"]), refusals.json()["events"])


async def test_concurrent_first_requests_of_a_bootstrap_admin_create_one_row(
    fresh_database_url: str,
) -> None:
    """The losers of the insert find the row the winner created, and are answered as admin."""
    auth = {"bootstrap_admins": [ADMIN_EMAIL, NEW_ADMIN]}
    async with running_api(fresh_database_url, auth=auth) as api:
        answers = api.http.blocking_portal.call(_at_once, api, dict(api.as_user(NEW_ADMIN)))
        created = await api.call(
            "GET", "/api/v1/admin/audit", api.as_admin(), params={"action": "user.create"}
        )

    assert [200] * REQUESTS == [answer.status_code for answer in answers], [
        answer.text for answer in answers
    ]
    assert {True} == {answer.json()["is_admin"] for answer in answers}
    assert 1 == len([e for e in created.json()["events"] if e["details"]["email"] == NEW_ADMIN])


async def test_two_logins_racing_for_one_email_bind_it_once_and_never_take_it_over(
    api_on_each_database: Api,
) -> None:
    """Two identities claim one unbound email at once: one binds, every request of the other is
    refused, and the row stays bound to the winner."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_user(PERSON, "alpha")
    logins = [
        {"Authorization": f"Bearer {api.issuer.mint_user_token(PERSON, subject=subject)}"}
        for subject in ("login-a", "login-b")
    ]

    answers = api.http.blocking_portal.call(_at_once, api, *logins)

    by_login = {
        subject: {answer.status_code for answer in answers[index :: len(logins)]}
        for index, subject in enumerate(("login-a", "login-b"))
    }
    winner = next(subject for subject, codes in by_login.items() if codes == {200})
    loser = ({"login-a", "login-b"} - {winner}).pop()
    bound = await api.call("GET", "/api/v1/auth/me", logins[0 if winner == "login-a" else 1])
    assert ({403}, winner) == (by_login[loser], bound.json()["subject"])
