"""The dashboard in headless Chromium against a real ``gharts dev``: what a person sees and does."""

from __future__ import annotations

import contextlib
import re

from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.browser_support import DevServer, log_in, screenshot

ADMIN = "admin@gharts.dev"


def _provision_by_api(dev: DevServer) -> dict[str, object]:
    body = {"runner_name_prefix": "api", "labels": ["gpu-a100"], "team_name": "demo"}
    created: dict[str, object] = dev.api("POST", "/api/v1/runners/jit", json=body)
    return created


def test_dev_login_lands_on_the_runners_page_as_the_admin(
    page: Page, dev_server: DevServer
) -> None:
    page.goto(dev_server.base_url + "/")
    expect(page.get_by_role("heading", name=re.compile("development issuer"))).to_be_visible()
    screenshot(page, "dev-issuer-login")
    log_in(page, dev_server.base_url, ADMIN)
    expect(page.get_by_test_id("who")).to_have_text(ADMIN)
    expect(page.locator(".badge.admin")).to_be_visible()
    expect(page.get_by_role("heading", name="Runners")).to_be_visible()
    screenshot(page, "runners")


def test_the_form_dry_runs_labels_as_they_are_typed_and_shows_the_config_once(
    page: Page, dev_server: DevServer
) -> None:
    me = dev_server.api("GET", "/api/v1/auth/me")
    dev_server.api(
        "POST",
        "/api/v1/admin/teams",
        json={"name": "render-farm", "allowed_runner_group_ids": [5, 7], "max_runners": 2},
    )
    dev_server.api("POST", "/api/v1/admin/teams/render-farm/members", json={"user_id": me["id"]})
    log_in(page, dev_server.base_url, ADMIN, path="/provision")
    # The runner-group picker follows the team picker: another team, its groups; back, ours.
    groups = page.get_by_label("Runner group")
    page.get_by_label("Team").select_option("render-farm")
    expect(groups.locator("option")).to_have_text(
        ["The team's default: group 5", "Group 5 (default)", "Group 7"]
    )
    groups.select_option("7")
    page.get_by_label("Team").select_option("demo")
    expect(groups.locator("option")).to_have_text(
        ["The team's default: group 1", "Group 1 (default)"]
    )
    expect(groups).to_have_value("")
    labels = page.get_by_label("Labels")
    labels.fill("gpu-a100 unknown-label")
    dry = page.get_by_test_id("dry-run")
    expect(dry).to_contain_text("refuses")
    expect(dry).to_contain_text("unknown-label")
    labels.fill("gpu-a100 size-small")
    expect(dry).to_contain_text("accepts")
    expect(dry).to_contain_text("demo")  # the required label is in the final set
    screenshot(page, "provision")
    page.get_by_label("Name or prefix").fill("browser")
    with page.expect_response(
        lambda r: r.url.endswith("/provision") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Provision").click()
    assert "no-store" == answer.value.headers["cache-control"]
    command = page.get_by_test_id("run-command")
    expect(command).to_have_value(re.compile(r"^\./run\.sh --jitconfig \S+"))
    expect(page.get_by_text("Shown once.")).to_be_visible()
    expect(page.get_by_role("button", name="Copy the command")).to_be_visible()
    screenshot(page, "provisioned")
    page.get_by_role("link", name="Open the runner").click()
    expect(page.get_by_role("heading", name=re.compile("^Runner browser"))).to_be_visible()
    with contextlib.suppress(PlaywrightError):  # Chromium will not show a no-store POST again
        page.go_back()
    expect(page.get_by_test_id("run-command")).to_have_count(0)


def test_a_runner_turns_online_on_an_open_page_when_the_worker_syncs(
    page: Page, dev_server: DevServer
) -> None:
    created = _provision_by_api(dev_server)
    log_in(page, dev_server.base_url, ADMIN)
    row = page.locator(f'tr[data-runner="{created["runner_id"]}"]')
    expect(row.get_by_test_id("status")).to_have_text("pending")
    expect(page.locator("body[data-live='connected']")).to_have_count(1)
    dev_server.simulator(f"/runners/{created['github_runner_id']}/online")
    dev_server.api("POST", "/api/v1/admin/sync/trigger")
    expect(row.get_by_test_id("status")).to_have_text("online")
    page.get_by_role("link", name=str(created["runner_name"])).click()
    expect(page.get_by_role("cell", name="online")).to_be_visible()
    screenshot(page, "runner-detail")


def test_a_member_sees_only_their_teams_runners_and_no_admin_page(
    browser: Browser, page: Page, dev_server: DevServer
) -> None:
    created = _provision_by_api(dev_server)
    dev_server.api(
        "POST", "/api/v1/admin/teams", json={"name": "other", "optional_label_patterns": ["x"]}
    )
    dev_server.api(
        "POST",
        "/api/v1/admin/users",
        json={"email": "member@example.com", "display_name": "Member", "teams": ["other"]},
    )
    log_in(page, dev_server.base_url, "member@example.com")
    expect(page.locator(".badge.admin")).to_have_count(0)
    expect(page.locator(f'tr[data-runner="{created["runner_id"]}"]')).to_have_count(0)
    response = page.goto(f"{dev_server.base_url}/runners/{created['runner_id']}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    response = page.goto(f"{dev_server.base_url}/admin/users")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("error-code")).to_have_text("ADMIN_REQUIRED")
    screenshot(page, "admin-forbidden")
    page.goto(dev_server.base_url + "/teams")
    expect(page.get_by_role("link", name="other")).to_be_visible()
    expect(page.get_by_role("link", name="demo")).to_have_count(0)
    screenshot(page, "teams")


def test_logout_ends_the_session(page: Page, dev_server: DevServer) -> None:
    log_in(page, dev_server.base_url, ADMIN)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="You are logged out")).to_be_visible()
    response = page.goto(dev_server.base_url + "/teams")
    assert response is not None
    expect(page.get_by_role("heading", name=re.compile("development issuer"))).to_be_visible()


def test_a_deactivated_persons_session_stops_at_the_next_request(
    page: Page, dev_server: DevServer
) -> None:
    """The deactivation deleted the session: the next request is anonymous, sent to the login."""
    user = dev_server.api(
        "POST",
        "/api/v1/admin/users",
        json={"email": "leaver@example.com", "display_name": "Leaver", "teams": ["demo"]},
    )
    log_in(page, dev_server.base_url, "leaver@example.com")
    dev_server.api(
        "PATCH",
        f"/api/v1/admin/users/{user['id']}",
        json={"is_active": False, "reason": "left the company"},
    )
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("development issuer"))).to_be_visible()
    expect(page.get_by_role("button", name=ADMIN)).to_be_visible()
    expect(page.get_by_role("button", name="leaver@example.com")).to_have_count(0)


def test_a_forged_cross_site_form_post_provisions_nothing(
    page: Page, dev_server: DevServer
) -> None:
    log_in(page, dev_server.base_url, ADMIN)
    before = dev_server.api("GET", "/api/v1/runners?limit=1")["total"]
    page.set_content(
        f'<form method="post" action="{dev_server.base_url}/provision">'
        '<input name="team" value="demo"><input name="labels" value="gpu-a100">'
        '<input name="name" value="forged"><button>go</button></form>'
    )
    page.get_by_role("button", name="go").click()
    page.wait_for_load_state()
    assert "/provision" not in page.url or page.get_by_text("Form refused").count() == 1
    assert before == dev_server.api("GET", "/api/v1/runners?limit=1")["total"]


def test_the_api_docs_render_from_packaged_assets_only(page: Page, dev_server: DevServer) -> None:
    page.goto(dev_server.base_url + "/schema")
    expect(page.get_by_text("GitHub Actions runner token service").first).to_be_visible()
    expect(page.get_by_text("/api/v1/runners/jit").first).to_be_attached()
    screenshot(page, "api-docs")


def test_the_pages_work_without_javascript(browser: Browser, dev_server: DevServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, dev_server.base_url, ADMIN, path="/provision")
        page.get_by_label("Labels").fill("gpu-a100")
        page.get_by_label("Name or prefix").fill("nojs")
        page.get_by_role("button", name="Provision").click()
        expect(page.get_by_test_id("run-command")).to_have_value(re.compile(r"^\./run\.sh "))
        page.get_by_role("link", name="Open the runner").click()
        expect(page.get_by_role("heading", name=re.compile("^Runner nojs-"))).to_be_visible()
        page.get_by_role("link", name="Delete…").click()
        page.get_by_role("button", name=re.compile("^Delete nojs-")).click()
        expect(page.get_by_test_id("status")).to_have_text("deleted")
        page.goto(dev_server.base_url + "/?team=demo&status=deleted")
        expect(page.get_by_role("link", name=re.compile("^nojs-"))).to_be_visible()
        page.goto(dev_server.base_url + "/teams/demo")
        expect(page.get_by_role("cell", name=ADMIN)).to_be_visible()
    finally:
        context.close()
