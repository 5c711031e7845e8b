"""Admin pages, batch deprovision and team read-only views in process: roles, CSRF, answers."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import attrs
import pytest

from gharts_core.model import Principal
from gharts_core.services.admin_teams import CreateTeam
from gharts_core.services.admin_users import CreateUser, UserQuery
from gharts_core.services.provision import ProvisionJitRunner
from gharts_http.cli.dev.seed import DEV_ADMIN_EMAIL
from tests.integration.dashboard.dashboard_support import DevDashboard, csrf_token, log_in

SYSTEM = Principal.system()
MEMBER = "member@example.com"
OUTSIDER = "outsider@example.com"


@attrs.frozen
class World:
    """The dev app with a second team, a member of each, and runners: two in demo, one in other."""

    dev: DevDashboard
    member_id: str
    demo_runners: tuple[str, str]
    other_runner: str


async def _as(dev: DevDashboard, email: str) -> Principal:
    return await dev.services.auth.authenticate(dev.issuer.mint_user_token(email))


@pytest.fixture
async def world(dev: DevDashboard) -> World:
    services = dev.services
    await services.teams.create_team(SYSTEM, CreateTeam(name="other", required_labels=("other",)))
    member = await services.users.create_user(
        SYSTEM, CreateUser(email=MEMBER, display_name="Member", teams=("demo",))
    )
    await services.users.create_user(
        SYSTEM, CreateUser(email=OUTSIDER, display_name="Outsider", teams=("other",))
    )
    mine = await _as(dev, MEMBER)
    demo = [
        await services.provisioning.provision_jit(
            mine, ProvisionJitRunner(labels=["gpu-a100"], runner_name_prefix=p, team_name="demo")
        )
        for p in ("first", "second")
    ]
    other = await services.provisioning.provision_jit(
        await _as(dev, OUTSIDER), ProvisionJitRunner(runner_name_prefix="theirs", team_name="other")
    )
    return World(
        dev,
        str(member.user.id),
        (str(demo[0].runner.id), str(demo[1].runner.id)),
        str(other.runner.id),
    )


def _admin_routes(world: World) -> list[tuple[str, str]]:
    user = f"/admin/users/{world.member_id}"
    return [
        ("GET", "/admin/"),
        ("GET", "/admin/users"),
        ("GET", "/admin/users/new"),
        ("GET", user),
        ("GET", "/admin/audit"),
        ("GET", "/admin/audit/export?format=csv"),
        ("GET", "/admin/security"),
        ("GET", "/admin/no-such-page"),
        ("POST", "/admin/sync"),
        ("POST", "/admin/users"),
        ("POST", user),
        ("POST", f"{user}/deactivate"),
        ("POST", f"{user}/reactivate"),
        ("POST", "/admin/no-such-page"),
    ]


async def test_a_member_gets_403_on_every_admin_route_and_an_admin_404_on_unknown_ones(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    token = csrf_token((await http.get("/")).text)
    form = {
        "csrf_token": token,
        "email": "sneaky@example.com",
        "display_name": "Sneaky",
        "is_admin": "on",
        "reason": "taking over",
    }
    for method, path in _admin_routes(world):
        response = await http.request(method, path, data=form if method == "POST" else None)
        assert 403 == response.status_code, (method, path)
        assert "ADMIN_REQUIRED" in response.text, (method, path)
    assert "/admin/" not in (await http.get("/")).text  # no Admin link for members
    people = await world.dev.services.users.list_users(SYSTEM, UserQuery(email="sneaky"))
    assert 0 == people.total
    member = await world.dev.services.users.get_user(SYSTEM, uuid.UUID(world.member_id))
    assert member.user.is_active
    assert not member.user.is_admin
    await log_in(http, DEV_ADMIN_EMAIL)
    token = csrf_token((await http.get("/")).text)
    for method in ("GET", "POST"):
        unknown = await http.request(method, "/admin/no-such-page", data={"csrf_token": token})
        assert 404 == unknown.status_code
        assert "Not found" in unknown.text
    malformed = {
        "/admin/users/not-an-id": "USER_NOT_FOUND",
        "/admin/teams/demo/members/not-an-id/remove": "USER_NOT_FOUND",
        "/admin/teams/demo/clients/not-an-id/enable": "CLIENT_NOT_FOUND",
    }
    for path, code in malformed.items():
        method = "GET" if path.startswith("/admin/users") else "POST"
        answer = await http.request(method, path, data={"csrf_token": token})
        assert (404, True) == (answer.status_code, code in answer.text), path


async def test_every_form_without_the_csrf_token_or_with_a_wrong_one_is_refused(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, DEV_ADMIN_EMAIL)
    user = f"/admin/users/{world.member_id}"
    forms = {
        "/admin/sync": {},
        "/admin/users": {"email": "forged@example.com", "display_name": "Forged"},
        user: {"display_name": "Forged", "is_admin": "on"},
        f"{user}/deactivate": {"reason": "forged"},
        f"{user}/reactivate": {},
        "/runners/deprovision": {"runner": world.demo_runners[0]},
    }
    for path, fields in forms.items():
        for sent in ({}, {"csrf_token": "guessed"}):
            refused = await http.post(path, data={**fields, **sent})
            assert 403 == refused.status_code, (path, sent)
            assert "CSRF_REFUSED" in refused.text
    member = await world.dev.services.users.get_user(SYSTEM, uuid.UUID(world.member_id))
    assert member.user.is_active
    assert "Member" == member.user.display_name
    runner = await world.dev.services.runners.get(SYSTEM, uuid.UUID(world.demo_runners[0]))
    assert "deleted" != runner.status.value


async def test_an_admin_creates_changes_deactivates_and_reactivates_a_user_and_meets_the_guard(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, DEV_ADMIN_EMAIL)
    token = csrf_token((await http.get("/admin/users/new")).text)
    taken = await http.post(
        "/admin/users",
        data={"csrf_token": token, "email": MEMBER, "display_name": "Again", "teams": "demo"},
    )
    assert 409 == taken.status_code
    assert "already exists" in taken.text
    assert 'value="Again"' in taken.text  # what was typed is kept
    created = await http.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "new@example.com",
            "display_name": "New Person",
            "teams": "demo other",
            "can_use_registration_token": "on",
        },
    )
    assert 200 == created.status_code
    assert "The user was created." in created.text
    assert '<a href="/teams/demo">demo</a>, <a href="/teams/other">other</a>' in created.text
    user_path = str(created.url.path)
    changed = await http.post(
        user_path, data={"csrf_token": token, "display_name": "Renamed", "can_use_jit": "on"}
    )
    assert "The changes were saved." in changed.text
    no_reason = await http.post(f"{user_path}/deactivate", data={"csrf_token": token})
    assert 400 == no_reason.status_code
    assert "VALIDATION_ERROR" in no_reason.text
    gone = await http.post(f"{user_path}/deactivate", data={"csrf_token": token, "reason": "left"})
    assert "deactivated" in gone.text
    assert "left" in gone.text
    back = await http.post(f"{user_path}/reactivate", data={"csrf_token": token})
    assert "The user was reactivated." in back.text
    listed = await http.get("/admin/users?email=renamed&active=yes")
    assert "0 users" in listed.text  # the filter is on the email, not the name
    listed = await http.get("/admin/users?email=new@&active=yes&admin=no&team=other")
    assert "1 user<" in listed.text
    assert "new@example.com" in listed.text
    me = (await world.dev.services.users.list_users(SYSTEM, UserQuery(email="admin@"))).items[0]
    guarded = await http.post(
        f"/admin/users/{me.user.id}/deactivate", data={"csrf_token": token, "reason": "bye"}
    )
    assert 409 == guarded.status_code
    assert "The last active admin cannot be demoted or deactivated." in guarded.text
    assert "CONFLICT" in guarded.text
    assert "<h1>User admin@gharts.dev</h1>" in guarded.text  # the form, not an error page
    assert 'name="reason" required value="bye"' in guarded.text  # what was typed is kept
    assert 400 == (await http.get("/admin/users?admin=maybe")).status_code


async def test_the_audit_page_filters_diffs_and_exports_what_it_shows(world: World) -> None:
    http = world.dev.http
    services = world.dev.services
    await log_in(http, DEV_ADMIN_EMAIL)
    token = csrf_token((await http.get("/")).text)
    await http.post(
        f"/admin/users/{world.member_id}",
        data={"csrf_token": token, "display_name": "Member Renamed", "can_use_jit": "on"},
    )
    shown = await http.get(f"/admin/audit?action=user.update&target={world.member_id}")
    assert "1 row<" in shown.text
    assert re.search(r"<del>Member</del></td><td><ins>Member Renamed</ins>", shown.text)
    listed = await http.get("/admin/audit?action=runner.provision&team=demo&outcome=success")
    assert "2 rows<" in listed.text
    export = re.search(r'href="([^"]+format=csv)"', listed.text)
    assert export is not None
    answer = await http.get(export.group(1).replace("&amp;", "&"))
    assert 200 == answer.status_code
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert 2 == len(rows)
    assert {"runner.provision"} == {row["action"] for row in rows}
    assert {"demo"} == {row["team_name"] for row in rows}
    jsonl = await http.get("/admin/audit/export?format=jsonl&action=runner.provision&team=other")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert ["other"] == [line["team_name"] for line in lines]
    assert 400 == (await http.get("/admin/audit?since=yesterday")).status_code
    assert 400 == (await http.get("/admin/audit/export?format=xml")).status_code
    assert 404 == (await http.get("/admin/audit?team=nope")).status_code
    assert (await services.audit.list_audit(SYSTEM)).total > 0


async def test_a_member_reads_only_their_own_teams_audit_log_and_security_events(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    await http.get("/teams/other")  # refused: a security event of team other, not demo
    own = await http.get("/teams/demo/audit?action=runner.provision")
    assert 200 == own.status_code
    assert "2 rows<" in own.text
    assert world.other_runner not in own.text
    assert all(runner in own.text for runner in world.demo_runners)
    assert 'name="team"' not in own.text  # one team's log: no team filter
    security = await http.get("/teams/demo/security")
    assert 200 == security.status_code
    assert "0 events<" in security.text
    for path in ("/teams/other/audit", "/teams/other/security"):
        refused = await http.get(path)
        assert 403 == refused.status_code
        assert "NOT_TEAM_MEMBER" in refused.text
    for path in ("/teams/nope/audit", "/teams/nope/security"):
        assert 404 == (await http.get(path)).status_code
    await log_in(http, DEV_ADMIN_EMAIL)
    theirs = await http.get("/admin/security?type=unauthorized_access&team=other")
    assert "3 events<" in theirs.text  # /teams/other, its audit log and its events
    assert "severity-" in theirs.text


async def test_batch_deprovision_lists_the_chosen_runners_then_removes_them(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    first, second = world.demo_runners
    listed = await http.get("/")
    assert f'name="runner" value="{first}"' in listed.text
    token = csrf_token(listed.text)
    confirm = await http.get(f"/runners/deprovision?runner={first}&runner={second}")
    assert 200 == confirm.status_code
    assert "Deprovision 2 runners?" in confirm.text
    hidden = await http.get(f"/runners/deprovision?runner={first}&runner={world.other_runner}")
    assert 404 == hidden.status_code  # another team's runner is not there, as ever
    assert 400 == (await http.get("/runners/deprovision")).status_code
    done = await http.post(
        "/runners/deprovision", data={"csrf_token": token, "runner": [first, second]}
    )
    assert 200 == done.status_code
    assert "2 runners deprovisioned" in done.text
    for runner_id in (first, second):
        runner = await world.dev.services.runners.get(SYSTEM, uuid.UUID(runner_id))
        assert "deleted" == runner.status.value
    other = await world.dev.services.runners.get(SYSTEM, uuid.UUID(world.other_runner))
    assert "deleted" != other.status.value


async def test_the_overview_charts_carry_the_numbers_of_the_seeded_data(world: World) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    await http.post(  # a refused provisioning: a denied outcome in the last 24 hours
        "/provision",
        data={
            "csrf_token": csrf_token((await http.get("/provision")).text),
            "team": "demo",
            "labels": "not-allowed",
            "naming": "prefix",
            "name": "refused",
        },
    )
    await log_in(http, DEV_ADMIN_EMAIL)
    overview = await http.get("/admin/")
    assert 200 == overview.status_code
    html = overview.text
    assert re.search(r'data-label="demo" data-total="2"', html)
    assert re.search(r'data-label="other" data-total="1"', html)
    assert 'data-series="pending" data-value="2"' in html
    assert "demo: 2 runners (2 pending); other: 1 runner (1 pending)." in html
    assert re.search(r'data-label="demo" data-value="2" data-maximum="10"', html)
    assert "demo: 2 of 10" in html
    assert re.search(r'data-label="success" data-value="3"', html)
    assert re.search(r'data-label="denied" data-value="1"', html)
    token = csrf_token(html)
    triggered = await http.post("/admin/sync", data={"csrf_token": token})
    assert 200 == triggered.status_code
    assert "A sync cycle" in triggered.text
    assert "Observed at GitHub" in triggered.text
