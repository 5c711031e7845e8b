"""An admin manages teams in the browser: policy with its impact preview, members, clients."""

from __future__ import annotations

import re
import subprocess

import httpx
from playwright.sync_api import Page, expect

from tests.browser.browser_support import DevServer, log_in, screenshot
from tests.processes import GHARTS, eventually

ADMIN = "admin@gharts.dev"
TEAM = "gpu-lab"


def _runner_status(dev: DevServer, runner_id: str) -> str:
    runner: dict[str, str] = dev.api("GET", f"/api/v1/runners/{runner_id}")
    return runner["status"]


def _client_token(dev: DevServer, subject: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(GHARTS), "dev", "token", "--client", subject],
        cwd=dev.cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_an_admin_edits_a_policy_after_seeing_what_it_would_do(
    page: Page, dev_server: DevServer
) -> None:
    log_in(page, dev_server.base_url, ADMIN, path="/admin/teams")
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()
    page.get_by_label("Name").fill(TEAM)
    page.get_by_label("Required labels").fill(TEAM)
    page.get_by_label("Allowed label patterns").fill("gpu-[a-z0-9]+\nsize-(small|large)")
    page.get_by_role("button", name="Create the team").click()
    expect(page.get_by_role("heading", name=f"Team {TEAM}")).to_be_visible()

    # The admin joins the team so as to provision a runner in it, which the new policy refuses.
    page.get_by_label("Email of the person to add").fill(ADMIN)
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_test_id("notice")).to_have_text("The member was added.")
    expect(page.locator(f'tr[data-member="{ADMIN}"]')).to_be_visible()
    created = dev_server.api(
        "POST",
        "/api/v1/runners/jit",
        json={"runner_name_prefix": "lab", "labels": ["gpu-a100"], "team_name": TEAM},
    )
    dev_server.simulator(f"/runners/{created['github_runner_id']}/online")
    dev_server.api("POST", "/api/v1/admin/sync/trigger")
    eventually(
        lambda: _runner_status(dev_server, created["runner_id"]) == "online" or None,
        timeout=60,
        what="the runner online",
    )

    page.reload()
    check = page.get_by_test_id("pattern-check")
    expect(check).to_have_text("2 patterns, all valid RE2.")  # the check made on load
    patterns = page.get_by_label("Allowed label patterns")
    patterns.fill("size-(small|large)\ngpu-(")
    expect(check).to_contain_text("gpu-(")
    expect(check).to_contain_text("is not a valid RE2 expression: missing )")
    screenshot(page, "admin-team-pattern-check")
    patterns.fill("size-(small|large)")
    expect(check).to_contain_text("1 pattern, all valid RE2.")
    page.get_by_role("button", name="Preview the change").click()

    row = page.locator(f'tr[data-runner="{created["runner_name"]}"]')
    expect(row).to_contain_text("gpu-a100")
    expect(row).to_contain_text("not_allowed")
    expect(row.get_by_test_id("action")).to_contain_text("a security event records")
    expect(page.get_by_test_id("refused-count")).to_have_text("1")
    screenshot(page, "admin-team-preview")
    page.get_by_label(re.compile("Also remove the 1 idle runner")).check()
    page.get_by_role("button", name="Save the policy").click()

    expect(page.get_by_test_id("notice")).to_have_text(
        "The policy was saved. 1 idle runner removed."
    )
    saved = page.locator('[data-testid="change"][data-action="team.update"]').first
    patterns_row = saved.locator('tr[data-field="optional_label_patterns"]')
    expect(patterns_row.get_by_test_id("before")).to_have_text(
        '["gpu-[a-z0-9]+", "size-(small|large)"]'
    )
    expect(patterns_row.get_by_test_id("after")).to_have_text('["size-(small|large)"]')
    assert "deleted" == _runner_status(dev_server, created["runner_id"])
    screenshot(page, "admin-team")

    page.get_by_role("button", name=f"Remove {ADMIN}").click()
    expect(page.get_by_test_id("notice")).to_have_text("The member was removed.")
    expect(page.locator(f'tr[data-member="{ADMIN}"]')).to_have_count(0)


def test_a_registered_client_provisions_until_it_is_disabled(
    page: Page, dev_server: DevServer
) -> None:
    log_in(page, dev_server.base_url, ADMIN, path="/admin/teams/demo")
    page.get_by_label("Subject").fill("browser-ci")
    page.get_by_label("Client description").fill("registered in the browser test")
    page.get_by_role("button", name="Register the client").click()
    row = page.locator('tr[data-client="browser-ci"]')
    expect(row.get_by_test_id("client-status")).to_have_text("enabled")

    token = _client_token(dev_server, "browser-ci")
    body = {"runner_name_prefix": "ci", "labels": ["gpu-a100"]}
    headers = {"Authorization": f"Bearer {token}"}
    url = dev_server.base_url + "/api/v1/runners/jit"
    assert 201 == httpx.post(url, json=body, headers=headers, timeout=30).status_code

    row.get_by_label("Why disable browser-ci").fill("leaked token")
    row.get_by_role("button", name="Disable browser-ci").click()
    expect(page.get_by_test_id("notice")).to_contain_text("The client was disabled")
    expect(row.get_by_test_id("client-status")).to_have_text("disabled")
    refused = httpx.post(url, json=body, headers=headers, timeout=30)
    assert (403, "USER_NOT_AUTHORIZED") == (refused.status_code, refused.json()["error_code"])
    screenshot(page, "admin-team-clients")
    audit = dev_server.api("GET", "/api/v1/admin/audit", params={"action": "client.disable"})
    assert "leaked token" == audit["events"][0]["details"]["reason"]
