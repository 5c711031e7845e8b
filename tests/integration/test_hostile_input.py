"""The hostile-input catalogue: every request answers a 4xx with an ``error_code``, never a 5xx.

Each class of input is tried where it can enter: a NUL character in a query filter, a path
segment, a body field and a token claim; integers beyond what the databases store; JSON too deep
to parse or holding a lone surrogate; bodies that are not JSON. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from tests.integration.api_support import Api

pytestmark = pytest.mark.asyncio

JSON = {"content-type": "application/json"}
NUL_SUBJECT = "ci\x00"


@attrs.frozen
class Hostile:
    """One hostile request and the status and ``error_code`` it must get."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=lambda: dict(JSON))
    caller: str = "admin"  # or "nul-subject"
    expected: tuple[int, str] = (400, "VALIDATION_ERROR")


DEEP = b"[" * 100_000 + b"]" * 100_000
CATALOGUE = {
    # A NUL character, wherever it enters.
    "nul-in-query-filter": Hostile("GET", "/api/v1/admin/users?team=sz%00"),
    "nul-in-audit-filter": Hostile("GET", "/api/v1/admin/audit?actor=a%00b"),
    "nul-in-path-segment": Hostile("GET", "/api/v1/admin/teams/sz%00"),
    "nul-in-team-view-path": Hostile("GET", "/api/v1/teams/sz%00/audit"),
    "nul-in-client-issuer": Hostile(
        "POST", "/api/v1/admin/clients", b'{"issuer": "x\\u0000", "subject": "s", "team": "alpha"}'
    ),
    "nul-in-label": Hostile(
        "POST", "/api/v1/runners/jit", b'{"labels": ["gpu-\\u0000"], "runner_name_prefix": "n"}'
    ),
    "nul-in-token-subject": Hostile("GET", "/api/v1/auth/me", caller="nul-subject"),
    # Integers beyond the columns.
    "max-runners-beyond-32-bits": Hostile(
        "PATCH",
        "/api/v1/admin/teams/alpha",
        b'{"max_runners": 141509211470}',
        expected=(400, "INVALID_POLICY"),
    ),
    "runner-group-beyond-64-bits": Hostile(
        "PATCH",
        "/api/v1/admin/teams/alpha",
        b'{"allowed_runner_group_ids": [18446744073709551616]}',
        expected=(400, "INVALID_POLICY"),
    ),
    "until-as-a-number": Hostile("GET", "/api/v1/admin/audit?until=0"),
    "since-as-a-number": Hostile("GET", "/api/v1/admin/security-events?since=1700000000"),
    "offset-beyond-64-bits": Hostile("GET", "/api/v1/admin/teams?offset=18446744073709551616"),
    # JSON that is no body of ours.
    "deeply-nested-json": Hostile("POST", "/api/v1/admin/teams", DEEP),
    "lone-surrogate": Hostile("POST", "/api/v1/admin/teams", b'{"name": "\\ud800"}'),
    "surrogate-key": Hostile("POST", "/api/v1/admin/teams", b'{"\\udfff": 1}'),
    # Bodies that are not JSON at all.
    "text-plain": Hostile(
        "POST",
        "/api/v1/admin/teams",
        b'{"name": "gamma"}',
        {"content-type": "text/plain"},
        expected=(415, "UNSUPPORTED_MEDIA_TYPE"),
    ),
    "form": Hostile(
        "POST",
        "/api/v1/admin/teams",
        b"name=gamma",
        {"content-type": "application/x-www-form-urlencoded"},
        expected=(415, "UNSUPPORTED_MEDIA_TYPE"),
    ),
    "xml": Hostile(
        "POST",
        "/api/v1/admin/teams",
        b"<team><name>gamma</name></team>",
        {"content-type": "application/xml"},
        expected=(415, "UNSUPPORTED_MEDIA_TYPE"),
    ),
    "no-content-type": Hostile(
        "POST",
        "/api/v1/admin/teams",
        b'{"name": "gamma"}',
        {},
        expected=(415, "UNSUPPORTED_MEDIA_TYPE"),
    ),
}


async def send(api: Api, hostile: Hostile) -> Any:
    """Send ``hostile`` as its caller."""
    caller = api.as_admin() if hostile.caller == "admin" else api.as_machine(NUL_SUBJECT)
    return await api.http.request(
        hostile.method, hostile.path, headers={**caller, **hostile.headers}, content=hostile.body
    )


async def test_every_hostile_request_gets_its_4xx_on_each_database(
    api_on_each_database: Api,
) -> None:
    """The whole catalogue, on one database: each answer is the expected code, none a 5xx."""
    api = api_on_each_database
    await api.seed_team("alpha")
    seen = {}
    for name, hostile in CATALOGUE.items():
        response = await send(api, hostile)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        seen[name] = (response.status_code, response.json().get("error_code") if is_json else None)
    assert {name: hostile.expected for name, hostile in CATALOGUE.items()} == seen


async def test_a_label_with_a_nul_is_refused_before_the_policy(api_on_each_database: Api) -> None:
    """The refusal names the field; nothing half-written is left (no runner, no 500)."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_user("member@example.com", "alpha")
    response = await api.provision(api.as_user("member@example.com"), ["gpu-\x00"])
    listed = await api.call("GET", "/api/v1/runners", api.as_admin(), expect=200)
    assert (400, {"labels[0]": "must not contain a NUL character"}, 0) == (
        response.status_code,
        response.json()["field_errors"],
        listed.json()["total"],
    )
