"""The admin team pages in process: admins only, CSRF on every form, errors shown on the form."""

from __future__ import annotations

import re
import uuid

import pytest

from gharts_core.model import AuditAction, Principal
from gharts_core.ports.storage import AuditFilter, Page
from gharts_core.services.admin_clients import CreateClient
from gharts_core.services.admin_users import CreateUser
from tests.integration.dashboard.dashboard_support import DevDashboard, csrf_token, log_in

SYSTEM = Principal.system()
MEMBER = "member@example.com"
ZERO = "00000000-0000-0000-0000-000000000000"


def _routes(client_id: str, user_id: str) -> tuple[list[str], list[str]]:
    gets = ["/admin/teams", "/admin/teams/demo"]
    posts = [
        "/admin/teams",
        "/admin/teams/demo/patterns",
        "/admin/teams/demo/preview",
        "/admin/teams/demo/policy",
        "/admin/teams/demo/deactivate",
        "/admin/teams/demo/reactivate",
        "/admin/teams/demo/members",
        f"/admin/teams/demo/members/{user_id}/remove",
        "/admin/teams/demo/clients",
        f"/admin/teams/demo/clients/{client_id}/disable",
        f"/admin/teams/demo/clients/{client_id}/enable",
    ]
    return gets, posts


@pytest.fixture
async def ids(dev: DevDashboard) -> tuple[str, str]:
    services = dev.services
    member = await services.users.create_user(
        SYSTEM, CreateUser(email=MEMBER, display_name="Member", teams=("demo",))
    )
    client = await services.clients.create_client(
        SYSTEM, CreateClient(issuer=dev.issuer.issuer, subject="ci", team="demo")
    )
    return str(client.client.id), str(member.user.id)


async def _audit_rows(dev: DevDashboard) -> int:
    async with dev.services.store.unit_of_work(read_only=True) as uow:
        return (await uow.audit.list(AuditFilter(), Page(limit=1))).total


async def test_a_member_gets_the_403_page_on_every_admin_team_route(
    dev: DevDashboard, ids: tuple[str, str]
) -> None:
    http = dev.http
    await log_in(http, MEMBER)
    token = csrf_token((await http.get("/provision")).text)
    gets, posts = _routes(*ids)
    before = await _audit_rows(dev)
    for path in gets:
        answer = await http.get(path)
        assert (403, "ADMIN_REQUIRED") == (answer.status_code, _code(answer.text)), path
    for path in posts:
        answer = await http.post(path, data={"csrf_token": token, "reason": "x", "name": "zz"})
        assert (403, "ADMIN_REQUIRED") == (answer.status_code, _code(answer.text)), path
    assert before == await _audit_rows(dev), "a refused member changed something"


async def test_every_admin_team_form_needs_the_sessions_csrf_token(
    dev: DevDashboard, ids: tuple[str, str]
) -> None:
    http = dev.http
    await log_in(http)
    _gets, posts = _routes(*ids)
    before = await _audit_rows(dev)
    for path in posts:
        for form in ({"reason": "x"}, {"reason": "x", "csrf_token": "guessed"}):
            answer = await http.post(path, data=form)
            assert (403, "CSRF_REFUSED") == (answer.status_code, _code(answer.text)), path
    assert before == await _audit_rows(dev)


async def test_bad_input_is_named_on_the_form_with_its_error_code(dev: DevDashboard) -> None:
    http = dev.http
    await log_in(http)
    token = csrf_token((await http.get("/admin/teams/demo")).text)
    policy = {
        "csrf_token": token,
        "required_labels": "demo",
        "optional_label_patterns": "gpu-[a-z0-9]+\ngpu-(",
        "allowed_runner_group_ids": "1",
        "default_runner_group_id": "",
        "max_runners": "",
    }

    check = await http.post("/admin/teams/demo/patterns", data=policy)
    assert 200 == check.status_code
    assert "gpu-(" in check.text
    assert "cannot be saved" in check.text

    preview = await http.post("/admin/teams/demo/preview", data=policy)
    assert (400, "INVALID_POLICY") == (preview.status_code, _code(preview.text))
    assert "optional_label_patterns &#39;gpu-(&#39;" in preview.text
    assert "gpu-[a-z0-9]+\ngpu-(" in preview.text  # what was typed is kept

    numbers = await http.post("/admin/teams/demo/preview", data={**policy, "max_runners": "ten"})
    assert (400, "VALIDATION_ERROR") == (numbers.status_code, _code(numbers.text))

    reason = await http.post("/admin/teams/demo/deactivate", data={"csrf_token": token})
    assert (400, "VALIDATION_ERROR") == (reason.status_code, _code(reason.text))

    nobody = await http.post(
        "/admin/teams/demo/members", data={"csrf_token": token, "email": "no@example.com"}
    )
    assert (404, "USER_NOT_FOUND") == (nobody.status_code, _code(nobody.text))

    untrusted = await http.post(
        "/admin/teams/demo/clients",
        data={"csrf_token": token, "issuer": "https://evil.example.com", "subject": "x"},
    )
    assert (400, "VALIDATION_ERROR") == (untrusted.status_code, _code(untrusted.text))
    assert "not a trusted issuer" in untrusted.text

    duplicate = await http.post(
        "/admin/teams", data={"csrf_token": token, "name": "demo", "allowed_runner_group_ids": ""}
    )
    assert (409, "CONFLICT") == (duplicate.status_code, _code(duplicate.text))


async def test_a_quota_goes_back_to_unlimited_and_the_change_is_listed(dev: DevDashboard) -> None:
    http = dev.http
    await log_in(http)
    page = await http.get("/admin/teams/demo")
    token = csrf_token(page.text)
    fields = {
        "csrf_token": token,
        "required_labels": "demo",
        "optional_label_patterns": "gpu-[a-z0-9]+",
        "allowed_runner_group_ids": "1, 2",
        "default_runner_group_id": "2",
    }
    limited = await http.post(
        "/admin/teams/demo/policy", data={**fields, "max_runners": "3"}, follow_redirects=False
    )
    assert 303 == limited.status_code
    unlimited = await http.post("/admin/teams/demo/policy", data={**fields, "max_runners": ""})
    assert "The policy was saved." in unlimited.text

    team = await dev.services.teams.get_team(SYSTEM, "demo")
    assert (None, (1, 2), 2) == (
        team.max_runners,
        team.allowed_runner_group_ids,
        team.default_runner_group_id,
    )
    async with dev.services.store.unit_of_work(read_only=True) as uow:
        saved = await uow.audit.list(
            AuditFilter(action=AuditAction.TEAM_UPDATE.value), Page(limit=1)
        )
    assert 3 == saved.items[0].details["before"]["max_runners"]
    assert re.search(r'data-field="max_runners".*?>3<.*?>—<', unlimited.text, re.S)


def _code(html: str) -> str | None:
    found = re.search(r"<code[^>]*>([A-Z_]+)</code>", html)
    return found.group(1) if found else None


async def test_deactivation_with_a_reason_then_reactivation_and_a_client_enabled_again(
    dev: DevDashboard, ids: tuple[str, str]
) -> None:
    client_id, _member = ids
    http = dev.http
    await log_in(http)
    token = csrf_token((await http.get("/admin/teams/demo")).text)

    off = await http.post(
        "/admin/teams/demo/deactivate", data={"csrf_token": token, "reason": "moving to ARC"}
    )
    assert "inactive: moving to ARC" in off.text
    assert "Reactivate the team" in off.text
    on = await http.post("/admin/teams/demo/reactivate", data={"csrf_token": token})
    assert "The team was reactivated." in on.text
    assert (await dev.services.teams.get_team(SYSTEM, "demo")).is_active

    path = f"/admin/teams/demo/clients/{client_id}"
    await http.post(f"{path}/disable", data={"csrf_token": token, "reason": "rotated"})
    enabled = await http.post(f"{path}/enable", data={"csrf_token": token})
    assert "The client was enabled." in enabled.text
    assert (await dev.services.clients.get_client(SYSTEM, uuid.UUID(client_id))).client.is_active
    elsewhere = await http.post(
        f"/admin/teams/nobody/clients/{client_id}/disable", data={"csrf_token": token}
    )
    assert 404 == elsewhere.status_code
