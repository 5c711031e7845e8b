"""/provision's runner-group picker: the chosen team's groups, with or without JavaScript."""

from __future__ import annotations

import re

import pytest

from gharts_core.model import Principal
from gharts_core.ports.storage import Page, RunnerFilter
from gharts_core.services.admin_teams import CreateTeam
from gharts_core.services.admin_users import CreateUser
from tests.integration.dashboard.dashboard_support import DevDashboard, csrf_token, log_in

SYSTEM = Principal.system()
PERSON = "two-teams@example.com"
_OPTION = re.compile(r'<option value="(\d*)"( selected)?>([^<]*)</option>')
_OPTGROUP = re.compile(r'<optgroup label="([^"]+)">')


def _groups(html: str) -> list[tuple[str, bool, str]]:
    select = html.split('<select id="runner_group_id"', 1)[1].split("</select>", 1)[0]
    return [(value, bool(mark), text.strip()) for value, mark, text in _OPTION.findall(select)]


@pytest.fixture
async def dev_two_teams(dev: DevDashboard) -> DevDashboard:
    """A person in two teams: gpu (groups 5 and 7, default 7) and web (groups 1 and 3)."""
    teams = dev.services.teams
    await teams.create_team(
        SYSTEM,
        CreateTeam(
            name="gpu",
            required_labels=("gpu",),
            allowed_runner_group_ids=(5, 7),
            default_runner_group_id=7,
        ),
    )
    await teams.create_team(
        SYSTEM, CreateTeam(name="web", required_labels=("web",), allowed_runner_group_ids=(1, 3))
    )
    await dev.services.users.create_user(
        SYSTEM, CreateUser(email=PERSON, display_name="Two", teams=("gpu", "web"))
    )
    await log_in(dev.http, PERSON)
    return dev


async def test_the_picker_lists_each_teams_groups_and_the_team_picker_swaps_them(
    dev_two_teams: DevDashboard,
) -> None:
    html = (await dev_two_teams.http.get("/provision")).text
    assert ["gpu", "web"] == _OPTGROUP.findall(html.split('id="runner_group_id"', 1)[1])
    assert [
        ("", True, "The team's default group"),
        ("5", False, "Group 5, gpu"),
        ("7", False, "Group 7 (default), gpu"),
        ("1", False, "Group 1 (default), web"),
        ("3", False, "Group 3, web"),
    ] == _groups(html)

    # With JavaScript, choosing a team swaps in its options (what htmx asks for).
    http = dev_two_teams.http
    kept = await http.get("/provision/runner-groups", params={"team": "gpu", "runner_group_id": 5})
    dropped = await http.get(
        "/provision/runner-groups", params={"team": "web", "runner_group_id": "5"}
    )
    assert 200 == kept.status_code
    assert "<optgroup" not in kept.text
    assert [
        ("", False, "The team's default: group 7"),
        ("5", True, "Group 5"),
        ("7", False, "Group 7 (default)"),
    ] == _groups(kept.text)
    assert [
        ("", True, "The team's default: group 1"),
        ("1", False, "Group 1 (default)"),
        ("3", False, "Group 3"),
    ] == _groups(dropped.text)


async def test_a_group_of_another_team_is_refused_with_the_teams_name_and_a_right_one_is_used(
    dev_two_teams: DevDashboard,
) -> None:
    http = dev_two_teams.http
    token = csrf_token((await http.get("/provision")).text)
    form = {"csrf_token": token, "team": "web", "labels": "web", "naming": "prefix"}
    refused = await http.post("/provision", data={**form, "name": "wrong", "runner_group_id": "7"})
    made = await http.post("/provision", data={**form, "name": "right", "runner_group_id": "3"})

    assert 400 == refused.status_code
    assert "Runner group 7 is not one of team &#39;web&#39;&#39;s runner groups (1, 3)" in (
        refused.text
    )
    assert ("7", True, "Group 7 (default), gpu") in _groups(refused.text)  # the choice is kept
    assert 201 == made.status_code
    async with dev_two_teams.services.store.unit_of_work(read_only=True) as uow:
        found = await uow.runners.list(RunnerFilter(team_name="web"), Page())
    assert [("right", 3)] == [
        (runner.name.split("-")[0], runner.runner_group_id) for runner in found.items
    ]
