"""axe-core finds no serious or critical violation on any dashboard page; each is screenshotted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.browser_support import (
    DevServer,
    axe_source,
    log_in,
    screenshot,
    serious_violations,
)

ADMIN = "admin@gharts.dev"


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def test_no_page_has_a_serious_or_critical_accessibility_violation(
    page: Page, dev_server: DevServer, axe: str
) -> None:
    created = dev_server.api(
        "POST",
        "/api/v1/runners/jit",
        json={"runner_name_prefix": "a11y", "labels": ["gpu-a100"], "team_name": "demo"},
    )
    runner = created["runner_id"]
    admin_id = dev_server.api("GET", f"/api/v1/admin/users?email={ADMIN}")["users"][0]["id"]
    page.goto(dev_server.base_url + "/")
    found: dict[str, list[str]] = {"dev-login": serious_violations(page, axe)}
    log_in(page, dev_server.base_url, ADMIN)
    pages = {
        "runners": "/",
        "runners-filtered": "/?team=demo&status=pending",
        "runner": f"/runners/{runner}",
        "runner-delete": f"/runners/{runner}/delete",
        "provision-form": "/provision",
        "teams-list": "/teams",
        "team": "/teams/demo",
        "not-found": "/runners/nope",
        "admin-overview": "/admin/",
        "admin-users": "/admin/users",
        "admin-user-new": "/admin/users/new",
        "admin-user": f"/admin/users/{admin_id}",
        "admin-audit": "/admin/audit",
        "admin-security": "/admin/security",
        "admin-unknown": "/admin/no-such-page",
        "team-audit": "/teams/demo/audit",
        "team-security": "/teams/demo/security",
        "runner-batch": f"/runners/deprovision?runner={runner}",
        "admin-teams": "/admin/teams",
        "admin-team": "/admin/teams/demo",
    }
    for name, path in pages.items():
        page.goto(dev_server.base_url + path)
        page.wait_for_load_state("networkidle")
        found[name] = serious_violations(page, axe)
        screenshot(page, f"a11y-{name}")
    page.goto(dev_server.base_url + "/provision")
    page.get_by_label("Labels").fill("gpu-a100 nope")
    page.get_by_test_id("dry-run").wait_for()
    found["provision-dry-run"] = serious_violations(page, axe)
    page.goto(dev_server.base_url + "/admin/teams/demo")
    page.get_by_label("Allowed label patterns").fill("size-(small|large)")
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_test_id("impact").wait_for()
    found["admin-team-preview"] = serious_violations(page, axe)
    screenshot(page, "a11y-admin-team-preview")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="You are logged out").wait_for()
    found["logged-out"] = serious_violations(page, axe)
    assert {} == {name: problems for name, problems in found.items() if problems}


def test_the_check_itself_finds_an_unlabelled_field(page: Page, axe: str) -> None:
    page.set_content("<!doctype html><html lang='en'><title>t</title><main><input></main></html>")
    assert any("label" in line for line in serious_violations(page, axe))
