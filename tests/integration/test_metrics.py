"""``GET /metrics``: HTTP, provisioning, GitHub and token counters, and runner gauges."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version

from prometheus_client.parser import text_string_to_metric_families

from gharts_adapters.github.simulator import Faults
from tests.integration.api_support import Api

Key = tuple[str, frozenset[tuple[str, str]]]
BOB = "bob@example.com"


async def scrape(api: Api) -> dict[Key, float]:
    """Every sample of ``/metrics``, keyed by (name, labels)."""
    response = await api.call("GET", "/metrics", expect=200)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> Key:
    """The key of one sample."""
    return (name, frozenset(labels.items()))


def series(samples: Mapping[Key, float], name: str) -> dict[frozenset[tuple[str, str]], float]:
    """The samples named ``name``, keyed by their labels as a dict's items."""
    return {labels: value for (found, labels), value in samples.items() if found == name}


async def seed_alpha(api: Api) -> None:
    """Team alpha (quota 5) with member bob."""
    await api.seed_team("alpha", max_runners=5)
    await api.seed_user(BOB, "alpha")


async def test_metrics_are_prometheus_text(api: Api) -> None:
    """The content type is the Prometheus text format 0.0.4, and it needs no token."""
    response = await api.call("GET", "/metrics", expect=200)
    assert "text/plain; version=0.0.4; charset=utf-8" == response.headers["content-type"]
    assert "# TYPE gharts_http_requests_total counter" in response.text


async def test_the_build_is_exported_and_no_created_series(api: Api) -> None:
    """``gharts_build_info`` names the version; counters carry no ``_created`` series."""
    text = (await api.call("GET", "/metrics", expect=200)).text
    build = next(
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "gharts_build_info"
    )
    created = [line for line in text.splitlines() if "_created" in line]
    assert (version("gharts"), 1.0, []) == (build.labels["version"], build.value, created)


async def test_provisioning_outcomes_are_counted_by_team_and_error_code(api: Api) -> None:
    """A success counts as ``ok``, a refusal under its error code, both for the team."""
    await seed_alpha(api)
    await api.call(
        "POST",
        "/api/v1/runners/jit",
        api.as_user(BOB),
        json={
            "labels": ["gpu-a100"],
            "runner_name_prefix": "ok",
        },
        expect=201,
    )
    refused = await api.provision(api.as_user(BOB), labels=["not-allowed"])
    assert 403 == refused.status_code
    samples = await scrape(api)
    provisioning = series(samples, "gharts_provisioning_total")
    expected = {
        frozenset({"team": "alpha", "method": "jit", "outcome": "ok"}.items()): 1.0,
        frozenset(
            {"team": "alpha", "method": "jit", "outcome": "LABEL_POLICY_VIOLATION"}.items()
        ): 1.0,
    }
    assert expected == provisioning


async def test_refusals_for_made_up_teams_do_not_become_labels(api: Api) -> None:
    """A team that does not exist is counted under the empty team, not under its name."""
    await seed_alpha(api)
    response = await api.provision(api.as_user(BOB), team_name="no-such-team")
    assert "TEAM_NOT_FOUND" == response.json()["error_code"]
    samples = await scrape(api)
    key = sample("gharts_provisioning_total", team="", method="jit", outcome="TEAM_NOT_FOUND")
    assert 1.0 == samples[key]
    assert "no-such-team" not in str(samples)


async def test_http_requests_are_counted_by_route_template(api: Api) -> None:
    """Paths with ids count under their template; unknown paths under one shared label."""
    await seed_alpha(api)
    runner = "/api/v1/runners/00000000-0000-0000-0000-000000000001"
    await api.call("GET", runner, api.as_user(BOB), expect=404)
    await api.call("GET", "/no/such/path/42", expect=404)
    samples = await scrape(api)
    route = "/api/v1/runners/{runner_id}"
    assert (
        1.0
        == samples[sample("gharts_http_requests_total", route=route, method="GET", status="404")]
    )
    unmatched = sample(
        "gharts_http_requests_total", route="<unmatched>", method="GET", status="404"
    )
    assert 1.0 == samples[unmatched]
    assert runner not in str(samples)


async def test_github_calls_and_budget_are_exported(api: Api) -> None:
    """GitHub calls count by operation and outcome; GitHub's budget is a gauge."""
    await seed_alpha(api)
    await api.call(
        "POST",
        "/api/v1/runners/jit",
        api.as_user(BOB),
        json={
            "labels": [],
            "runner_name": "first",
        },
        expect=201,
    )
    api.simulator.set_faults(Faults(status=422, times=1))
    failed = await api.provision(api.as_user(BOB), runner_name="second")
    assert ("GITHUB_UNAVAILABLE", 502) == (failed.json()["error_code"], failed.status_code)
    samples = await scrape(api)
    calls = series(samples, "gharts_github_requests_total")
    expected = {
        frozenset({"operation": "create_jit_config", "outcome": "ok"}.items()): 1.0,
        frozenset({"operation": "create_jit_config", "outcome": "GITHUB_UNAVAILABLE"}.items()): 1.0,
    }
    assert expected == calls
    assert samples[sample("gharts_github_rate_limit_remaining")] > 0
    assert (
        samples[sample("gharts_github_rate_limit_limit")]
        >= samples[sample("gharts_github_rate_limit_remaining")]
    )


async def test_token_verifications_are_counted_by_outcome(api: Api) -> None:
    """Good tokens count as ``ok``; refused ones under their reason."""
    await api.call("GET", "/api/v1/runners", api.as_admin(), expect=200)
    await api.call("GET", "/api/v1/runners", {"Authorization": "Bearer not.a.jwt"}, expect=401)
    samples = await scrape(api)
    assert samples[sample("gharts_token_verifications_total", outcome="ok")] >= 1.0
    assert 1.0 == samples[sample("gharts_token_verifications_total", outcome="malformed")]


async def test_runner_gauges_follow_the_database(api: Api) -> None:
    """Runners by team and status and the team's quota use are read at scrape time."""
    await seed_alpha(api)
    await api.seed_team("beta")
    response = await api.provision(api.as_user(BOB))
    assert 201 == response.status_code
    samples = await scrape(api)
    expected = (1.0, 1.0, 5.0, 0.0, 1.0)
    assert expected == (
        samples[sample("gharts_runners", team="alpha", status="pending")],
        samples[sample("gharts_team_live_runners", team="alpha")],
        samples[sample("gharts_team_max_runners", team="alpha")],
        samples[sample("gharts_team_live_runners", team="beta")],
        samples[sample("gharts_database_up")],
    )
    assert sample("gharts_team_max_runners", team="beta") not in samples


async def test_a_vanished_team_status_pair_is_removed_not_left_stale(api: Api) -> None:
    """Once alpha has no pending runner, the (alpha, pending) series is gone."""
    await seed_alpha(api)
    response = await api.provision(api.as_user(BOB))
    runner_id = response.json()["runner_id"]
    assert sample("gharts_runners", team="alpha", status="pending") in await scrape(api)
    await api.call("DELETE", f"/api/v1/runners/{runner_id}", api.as_user(BOB), expect=200)
    samples = await scrape(api)
    assert {} == series(samples, "gharts_runners")
    assert 0.0 == samples[sample("gharts_team_live_runners", team="alpha")]
