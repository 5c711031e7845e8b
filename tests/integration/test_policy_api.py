"""``POST /api/v1/policy/check``: the team policy's dry run, which provisions nothing."""

from __future__ import annotations

from tests.integration.api_support import Api

CHECK = "/api/v1/policy/check"


async def test_allowed_labels_return_the_final_label_set(api: Api) -> None:
    """Accepted labels plus the required ones, lower case and sorted; no violations."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call(
        "POST",
        CHECK,
        api.as_user("dev@example.com"),
        json={"labels": ["Size-Large", "gpu-a100", "self-hosted"]},
        expect=200,
    )

    expected = {
        "team_name": "alpha",
        "allowed": True,
        "labels": ["gpu-a100", "size-large", "team-alpha"],
        "violations": [],
    }
    assert expected == response.json()


async def test_refused_labels_are_the_answer_not_an_error(api: Api) -> None:
    """A label no pattern matches is reported as a violation with a 200."""
    await api.seed_team("alpha")
    await api.seed_team("beta")
    await api.seed_user("dev@example.com", "alpha", "beta")

    response = await api.call(
        "POST",
        CHECK,
        api.as_user("dev@example.com"),
        json={"labels": ["gpu-a100", "size-huge"], "team_name": "beta"},
        expect=200,
    )

    expected = {
        "team_name": "beta",
        "allowed": False,
        "labels": ["gpu-a100", "team-alpha"],
        "violations": [
            {
                "label": "size-huge",
                "reason": "not_allowed",
                "message": "Label 'size-huge' matches none of the team's allowed patterns.",
            }
        ],
    }
    assert expected == response.json()


async def test_malformed_labels_are_violations_too(api: Api) -> None:
    """A label with a forbidden character is an invalid_format violation, still a 200."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call(
        "POST", CHECK, api.as_user("dev@example.com"), json={"labels": ["gpu a100"]}, expect=200
    )

    body = response.json()
    assert (False, ["invalid_format"]) == (
        body["allowed"],
        [violation["reason"] for violation in body["violations"]],
    )


async def test_several_teams_and_none_named_is_team_required(api: Api) -> None:
    """A caller in two teams must name one."""
    await api.seed_team("alpha")
    await api.seed_team("beta")
    await api.seed_user("dev@example.com", "alpha", "beta")

    response = await api.call(
        "POST", CHECK, api.as_user("dev@example.com"), json={"labels": ["gpu-a100"]}, expect=400
    )

    assert "TEAM_REQUIRED" == response.json()["error_code"]


async def test_naming_a_team_of_others_is_not_team_member(api: Api) -> None:
    """A user may not dry-run another team's policy."""
    await api.seed_team("alpha")
    await api.seed_team("beta")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call(
        "POST",
        CHECK,
        api.as_user("dev@example.com"),
        json={"labels": ["gpu-a100"], "team_name": "beta"},
        expect=403,
    )

    assert "NOT_TEAM_MEMBER" == response.json()["error_code"]


async def test_naming_an_unknown_team_is_team_not_found(api: Api) -> None:
    """An admin naming a team that does not exist gets TEAM_NOT_FOUND."""
    response = await api.call(
        "POST",
        CHECK,
        api.as_admin(),
        json={"labels": ["gpu-a100"], "team_name": "nowhere"},
        expect=404,
    )

    assert "TEAM_NOT_FOUND" == response.json()["error_code"]


async def test_a_machine_client_checks_its_own_team(api: Api) -> None:
    """A machine client's one team is chosen without naming it."""
    await api.seed_team("alpha")
    await api.seed_client("ci-bot", "alpha")

    response = await api.call(
        "POST", CHECK, api.as_machine("ci-bot"), json={"labels": ["gpu-a100"]}, expect=200
    )

    assert ("alpha", True) == (response.json()["team_name"], response.json()["allowed"])


async def test_a_check_provisions_nothing(api: Api) -> None:
    """No runner is recorded and GitHub is not asked for one."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    await api.call(
        "POST", CHECK, api.as_user("dev@example.com"), json={"labels": ["gpu-a100"]}, expect=200
    )

    runners = await api.call("GET", "/api/v1/runners", api.as_admin(), expect=200)
    assert (0, []) == (runners.json()["total"], api.simulator.runners())


async def test_an_unknown_body_field_is_a_validation_error(api: Api) -> None:
    """A typo in a field name is refused, naming the field."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call(
        "POST",
        CHECK,
        api.as_user("dev@example.com"),
        json={"labels": ["gpu-a100"], "team": "alpha"},
        expect=400,
    )

    body = response.json()
    assert ("VALIDATION_ERROR", {"team": "unknown field"}) == (
        body["error_code"],
        body["field_errors"],
    )
