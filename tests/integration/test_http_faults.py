"""Failures behind the API, seen through HTTP: GitHub down, slow or limiting, the database
unavailable, a bug in a handler. Each answers its error_code and leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from litestar.types import ControllerRouterHandler
from structlog.testing import capture_logs

from gharts_adapters.github import RetryPolicy, Timeouts
from gharts_adapters.github.simulator import Faults
from gharts_adapters.github.simulator.wiring import simulated_github
from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_core.drift import DriftSettings
from gharts_core.errors import StorageUnavailable
from gharts_core.ports.storage import Store
from gharts_core.services.sync import SyncService
from gharts_core.testing import FakeStore
from gharts_core.testing.clock import FakeClock
from gharts_http.api.app import create_app
from gharts_http.bootstrap import bootstrap
from tests.integration.api_support import ISSUER_URL, SCOPE, Api, settings_for

MEMBER = "member@example.com"
# Short enough that a GitHub that never answers costs the test a fraction of a second.
TIMEOUTS = Timeouts(connect=0.1, read=0.3)


@asynccontextmanager
async def running_api_with(
    database_url: str,
    *,
    store: Store | None = None,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
) -> AsyncIterator[Api]:
    """Like ``running_api``, with GitHub timeouts short, retries immediate, and ports passed."""
    issuer = DevIssuer(ISSUER_URL)
    async with (
        simulated_github(scope=SCOPE, timeouts=TIMEOUTS, retry=RetryPolicy.immediate()) as github,
        httpx.AsyncClient(transport=issuer.transport()) as identity_client,
    ):
        verifier = JwtVerifier([issuer.issuer_config()], identity_client)
        services = bootstrap(
            settings_for(database_url), identity=verifier, github=github.platform, store=store
        )
        services = attrs.evolve(services, simulator=github.simulator)
        try:
            app = create_app(services, extra_handlers=extra_handlers, on_shutdown=[services.aclose])
            async with AsyncTestClient(app, base_url="http://gharts.test") as http:
                yield Api(app, http, services, issuer)
        finally:
            await services.aclose()


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    """The app on SQLite, with a GitHub that fails fast."""
    async with running_api_with(sqlite_url) as running:
        yield running


async def one_slot_team(api: Api) -> dict[str, str]:
    """A team with room for one runner and a member of it; return the member's headers."""
    await api.seed_team("alpha", max_runners=1)
    await api.seed_user(MEMBER, "alpha")
    return api.as_user(MEMBER)


def error_of(response: httpx.Response) -> tuple[int, str | None]:
    """The status and error_code of a response."""
    return response.status_code, response.json().get("error_code")


#: GitHub answered and refused: it created nothing, so the reservation is released at once.
ANSWERED_FAULTS = [
    pytest.param(Faults(status=404), (502, "GITHUB_UNAVAILABLE"), id="unexpected-404"),
    pytest.param(
        Faults(secondary_limit=True, retry_after=30), (503, "GITHUB_RATE_LIMITED"), id="secondary"
    ),
    pytest.param(Faults(rate_limit_remaining=0), (503, "GITHUB_RATE_LIMITED"), id="primary"),
]
#: No answer or a 5xx: GitHub may have created the runner (a late answer), so the reservation
#: stays until the sync worker has asked GitHub by name (issue 12, finding 3).
UNKNOWN_FAULTS = [
    pytest.param(Faults(status=500), id="500"),
    pytest.param(Faults(status=502), id="502"),
    pytest.param(Faults(status=503), id="503"),
    pytest.param(Faults(timeout=True), id="timeout"),
]


@pytest.mark.parametrize(("faults", "expected"), ANSWERED_FAULTS)
async def test_a_github_refusal_while_provisioning_releases_the_quota(
    api: Api, faults: Faults, expected: tuple[int, str]
) -> None:
    """GitHub refusing answers its error; the reserved slot is freed for the next request."""
    member = await one_slot_team(api)
    await api.services.github.list_runners()  # the installation token is cached: JIT fails
    api.simulator.set_faults(faults)

    failed = await api.provision(member)

    assert expected == error_of(failed), failed.text
    api.simulator.clear_faults()
    retried = await api.provision(member)
    assert 201 == retried.status_code, retried.text
    deleted = await api.call("GET", "/api/v1/runners?status=deleted", member, expect=200)
    assert 1 == deleted.json()["total"]
    assert deleted.json()["runners"][0]["deleted_reason"]


@pytest.mark.parametrize("faults", UNKNOWN_FAULTS)
async def test_a_github_failure_of_unknown_outcome_holds_the_slot_until_sync_resolves_it(
    api: Api, faults: Faults
) -> None:
    """502 to the caller; the row stays ``provisioning`` until a cycle past the grace."""
    member = await one_slot_team(api)
    await api.services.github.list_runners()
    api.simulator.set_faults(faults)

    failed = await api.provision(member)
    api.simulator.clear_faults()
    held = await api.provision(member)
    later = FakeClock(api.services.clock.now() + DriftSettings().provisioning_grace)
    report = await SyncService(api.services.store, api.services.github, later).run_cycle()
    retried = await api.provision(member)

    assert (502, "GITHUB_UNAVAILABLE") == error_of(failed), failed.text
    assert (429, "QUOTA_EXCEEDED") == error_of(held), held.text
    assert {"mark_deleted": 1} == report.actions
    assert 201 == retried.status_code, retried.text


async def test_github_failing_to_issue_an_installation_token_is_unavailable(api: Api) -> None:
    """Before any runner call, the app's own authentication failing answers 502 too."""
    member = await one_slot_team(api)
    api.simulator.set_faults(Faults(status=503))

    failed = await api.provision(member)

    assert (502, "GITHUB_UNAVAILABLE") == error_of(failed), failed.text
    api.simulator.clear_faults()
    assert 201 == (await api.provision(member)).status_code


@pytest.mark.parametrize(
    ("faults", "retry_after"),
    [
        pytest.param(Faults(secondary_limit=True, retry_after=30), 30, id="secondary"),
        pytest.param(Faults(secondary_limit=True, retry_after=0), 1, id="secondary-now"),
    ],
)
async def test_github_rate_limits_say_when_to_retry(
    api: Api, faults: Faults, retry_after: int
) -> None:
    """503 GITHUB_RATE_LIMITED carries GitHub's wait in ``Retry-After`` and in the body."""
    member = await one_slot_team(api)
    await api.services.github.list_runners()
    api.simulator.set_faults(faults)

    failed = await api.provision(member)

    assert (503, "GITHUB_RATE_LIMITED") == error_of(failed), failed.text
    assert (str(retry_after), retry_after) == (
        failed.headers["retry-after"],
        failed.json()["retry_after"],
    )


async def test_an_exhausted_primary_limit_waits_until_the_reset(api: Api) -> None:
    """With no budget left, ``Retry-After`` is the time to GitHub's reset (at most an hour)."""
    member = await one_slot_team(api)
    await api.services.github.list_runners()
    api.simulator.set_faults(Faults(rate_limit_remaining=0))

    failed = await api.provision(member)

    assert (503, "GITHUB_RATE_LIMITED") == error_of(failed), failed.text
    wait = int(failed.headers["retry-after"])
    assert wait == failed.json()["retry_after"]
    assert 1 <= wait <= 3600


async def test_github_unavailable_says_when_to_retry(api: Api) -> None:
    """502 ``GITHUB_UNAVAILABLE`` carries ``Retry-After`` and the same ``retry_after`` field."""
    member = await one_slot_team(api)
    await api.services.github.list_runners()
    api.simulator.set_faults(Faults(status=502))

    failed = await api.provision(member)

    assert (502, "30", 30) == (
        failed.status_code,
        failed.headers.get("Retry-After"),
        failed.json().get("retry_after"),
    )


async def test_deleting_while_github_fails_keeps_the_runner(api: Api) -> None:
    """A failed removal answers 502 and the runner stays (and counts) until it succeeds."""
    member = await one_slot_team(api)
    runner = (await api.provision(member)).json()
    path = f"/api/v1/runners/{runner['runner_id']}"
    api.simulator.set_faults(Faults(status=502))

    failed = await api.call("DELETE", path, member)

    assert (502, "GITHUB_UNAVAILABLE") == error_of(failed), failed.text
    kept = await api.call("GET", path, member, expect=200)
    assert "deleted" != kept.json()["status"]
    assert (429, "QUOTA_EXCEEDED") == error_of(await api.provision(member))
    api.simulator.clear_faults()
    removed = await api.call("DELETE", path, member, expect=200)
    assert "deleted" == removed.json()["status"]


async def test_refreshing_while_github_fails_is_unavailable(api: Api) -> None:
    """Refresh answers 502 when GitHub cannot be read, and works again afterwards."""
    member = await one_slot_team(api)
    runner = (await api.provision(member)).json()
    path = f"/api/v1/runners/{runner['runner_id']}/refresh"
    api.simulator.set_faults(Faults(status=500))

    assert (502, "GITHUB_UNAVAILABLE") == error_of(await api.call("POST", path, member))
    api.simulator.clear_faults()
    await api.call("POST", path, member, expect=200)


# ---------------------------------------------------------------- the database


OUTAGE_REQUESTS = [
    ("GET", "/api/v1/runners", None),
    ("GET", "/api/v1/auth/me", None),
    ("POST", "/api/v1/runners/jit", {"labels": ["gpu-a"], "runner_name_prefix": "r"}),
    ("POST", "/api/v1/policy/check", {"labels": ["gpu-a"], "team_name": "alpha"}),
    ("GET", "/api/v1/admin/users", None),
    ("GET", "/api/v1/teams", None),
]


async def test_a_database_outage_answers_service_unavailable(tmp_path: Path) -> None:
    """While the store is down every endpoint answers 503 SERVICE_UNAVAILABLE; then it heals."""
    store = FakeStore()
    async with running_api_with(f"sqlite+aiosqlite:///{tmp_path}/unused.db", store=store) as api:
        member = await one_slot_team(api)
        callers = {"member": member, "admin": api.as_admin()}
        store.fail_with(StorageUnavailable())
        outage = {
            (caller, method, path): error_of(await api.call(method, path, headers, json=body))
            for method, path, body in OUTAGE_REQUESTS
            for caller, headers in callers.items()
        }
        healthz = await api.call("GET", "/healthz")
        store.fail_with(None)
        healed = await api.call("GET", "/api/v1/runners", member)

    assert set(outage.values()) == {(503, "SERVICE_UNAVAILABLE")}, outage
    assert (200, 200) == (healthz.status_code, healed.status_code)


async def test_an_unreachable_sqlite_file_answers_service_unavailable(tmp_path: Path) -> None:
    """The real store, its database file gone with its directory, answers 503 too."""
    directory = tmp_path / "gone"
    async with running_api_with(f"sqlite+aiosqlite:///{directory}/gharts.db") as api:
        response = await api.call("GET", "/api/v1/runners", api.as_admin())

    assert (503, "SERVICE_UNAVAILABLE") == error_of(response), response.text


async def test_an_unreachable_postgresql_server_answers_service_unavailable() -> None:
    """The real store, nobody listening where PostgreSQL should be, answers 503."""
    url = "postgresql+asyncpg://postgres@127.0.0.1:9/gharts"
    async with running_api_with(url) as api:
        response = await api.call("GET", "/api/v1/runners", api.as_admin())

    assert (503, "SERVICE_UNAVAILABLE") == error_of(response), response.text


# ---------------------------------------------------------------- bugs


SECRET = "secret-in-the-exception /srv/gharts/app.py line 42"


@get("/test/boom", sync_to_thread=False)
def boom() -> None:
    """A handler with a bug."""
    raise KeyError(SECRET)


@pytest.mark.parametrize("where", ["handler", "store"])
async def test_an_unexpected_exception_is_an_opaque_internal_error(
    tmp_path: Path, where: str
) -> None:
    """500 INTERNAL_ERROR with no trace in the body; the request id ties it to the log."""
    store = FakeStore()
    url = f"sqlite+aiosqlite:///{tmp_path}/unused.db"
    async with running_api_with(url, store=store, extra_handlers=[boom]) as api:
        headers: dict[str, Any] = {**api.as_admin(), "X-Request-ID": "req-500"}
        if where == "store":
            await api.call("GET", "/api/v1/auth/me", headers, expect=200)
            store.fail_with(RuntimeError(SECRET))
        path = "/test/boom" if where == "handler" else "/api/v1/runners"
        with capture_logs() as logs:
            response = await api.call("GET", path, headers)

    expected = {"detail": "Internal server error.", "error_code": "INTERNAL_ERROR"}
    assert (500, expected) == (response.status_code, response.json())
    assert "req-500" == response.headers["x-request-id"]
    assert SECRET not in response.text
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert ["req-500"] == [entry.get("request_id") for entry in errors], logs


async def test_an_internal_error_without_a_request_id_logs_the_generated_one(
    tmp_path: Path,
) -> None:
    """The id the server made up is the one in the response header and in the log."""
    url = f"sqlite+aiosqlite:///{tmp_path}/unused.db"
    async with running_api_with(url, store=FakeStore(), extra_handlers=[boom]) as api:
        with capture_logs() as logs:
            response = await api.call("GET", "/test/boom")

    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert [response.headers["x-request-id"]] == [entry.get("request_id") for entry in errors]
