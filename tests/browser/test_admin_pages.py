"""The admin pages in Chromium against a real ``gharts dev``: users, audit export, batch
deprovision, and the overview's charts read through their SVG attributes."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.browser_support import PAGE_TIMEOUT_MS, DevServer, log_in, screenshot

ADMIN = "admin@gharts.dev"
LEAVER = "leaving@example.com"
CHARTER = "charter@example.com"


class Api:
    """The API as one person, with one dev token (minting one per call costs a process)."""

    def __init__(self, server: DevServer, email: str) -> None:
        self._server = server
        self._headers = {"Authorization": f"Bearer {server.token(email)}"}

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, self._server.base_url + path, headers=self._headers, timeout=30, **kwargs
        )
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def admin_api(dev_server: DevServer) -> Api:
    return Api(dev_server, ADMIN)


def test_deactivating_a_user_ends_their_open_session_and_the_last_admin_is_guarded(
    browser: Browser, page: Page, dev_server: DevServer, admin_api: Api
) -> None:
    admin_api(
        "POST",
        "/api/v1/admin/users",
        json={"email": LEAVER, "display_name": "Leaving", "teams": ["demo"]},
    )
    theirs = browser.new_context()
    try:
        their_page = theirs.new_page()
        their_page.set_default_timeout(PAGE_TIMEOUT_MS)
        log_in(their_page, dev_server.base_url, LEAVER)
        expect(their_page.get_by_test_id("who")).to_have_text(LEAVER)

        log_in(page, dev_server.base_url, ADMIN, path="/admin/users")
        page.get_by_label("Email contains").fill("leaving@")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("1 user", exact=True)).to_be_visible()
        screenshot(page, "admin-users")
        page.get_by_role("link", name=LEAVER).click()
        page.get_by_label("Reason").fill("moved to another company")
        page.get_by_role("button", name=f"Deactivate {LEAVER}").click()
        expect(page.get_by_role("status")).to_contain_text("deactivated")
        expect(page.get_by_test_id("user-status")).to_have_text("deactivated")
        screenshot(page, "admin-user-deactivated")

        their_page.reload()
        expect(
            their_page.get_by_role("heading", name=re.compile("development issuer"))
        ).to_be_visible()
        expect(their_page.get_by_role("button", name=LEAVER)).to_have_count(0)
    finally:
        theirs.close()

    page.goto(dev_server.base_url + "/admin/users?" + urlencode({"email": ADMIN}))
    page.get_by_role("link", name=ADMIN).click()
    page.get_by_label("Reason").fill("leaving too")
    page.get_by_role("button", name=f"Deactivate {ADMIN}").click()
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("The last active admin cannot be demoted or deactivated.")
    expect(problem).to_contain_text("CONFLICT")
    expect(page.get_by_test_id("user-status")).to_have_text("active")
    screenshot(page, "admin-user-last-admin")


def test_the_filtered_audit_log_exports_exactly_its_rows(
    page: Page, dev_server: DevServer, admin_api: Api
) -> None:
    for prefix in ("audited", "audited"):
        admin_api(
            "POST",
            "/api/v1/runners/jit",
            json={"runner_name_prefix": prefix, "labels": ["gpu-a100"], "team_name": "demo"},
        )
    log_in(page, dev_server.base_url, ADMIN, path="/admin/audit")
    page.locator('select[name="action"]').select_option("runner.provision")
    page.locator('select[name="team"]').select_option("demo")
    page.locator('select[name="outcome"]').select_option("success")
    page.get_by_role("button", name="Filter").click()
    count = page.locator("p.count")
    expect(count).to_have_text(re.compile(r"^\d+ rows?$"))
    shown = int((count.text_content() or "0").split()[0])
    assert shown >= 2
    screenshot(page, "admin-audit")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert shown == len(rows)
    assert {("runner.provision", "demo", "success")} == {
        (row["action"], row["team_name"], row["outcome"]) for row in rows
    }
    with page.expect_download() as download:
        page.get_by_test_id("export-jsonl").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert shown == len(lines)


def test_two_runners_are_deprovisioned_in_one_batch(
    page: Page, dev_server: DevServer, admin_api: Api
) -> None:
    created = [
        admin_api(
            "POST",
            "/api/v1/runners/jit",
            json={"runner_name_prefix": "batch", "labels": ["gpu-a100"], "team_name": "demo"},
        )["runner_id"]
        for _ in range(2)
    ]
    log_in(page, dev_server.base_url, ADMIN)
    for runner_id in created:
        page.locator(f'tr[data-runner="{runner_id}"] input[type="checkbox"]').check()
    page.get_by_role("button", name="Deprovision the chosen runners").click()
    expect(page.get_by_role("heading", name="Deprovision 2 runners?")).to_be_visible()
    for runner_id in created:
        expect(page.locator(f'tr[data-runner="{runner_id}"]')).to_have_count(1)
    screenshot(page, "runner-batch-confirm")
    page.get_by_role("button", name="Deprovision 2 runners").click()
    expect(page.get_by_role("heading", name="2 runners deprovisioned")).to_be_visible()
    screenshot(page, "runner-batch-done")
    for runner_id in created:
        runner = admin_api("GET", f"/api/v1/runners/{runner_id}")
        assert "deleted" == runner["status"]


def test_the_overview_charts_show_the_numbers_of_the_seeded_data(
    page: Page, dev_server: DevServer, admin_api: Api
) -> None:
    admin_api(
        "POST",
        "/api/v1/admin/teams",
        json={"name": "charts", "required_labels": ["charts"], "max_runners": 4},
    )
    admin_api(
        "POST",
        "/api/v1/admin/users",
        json={"email": CHARTER, "display_name": "Charter", "teams": ["charts"]},
    )
    charter = Api(dev_server, CHARTER)
    for _ in range(3):
        charter("POST", "/api/v1/runners/jit", json={"runner_name_prefix": "chart", "labels": []})
    since = (datetime.now(UTC) - timedelta(hours=24)).isoformat()
    query = urlencode({"action": "runner.provision", "outcome": "success", "since": since})
    succeeded = admin_api("GET", f"/api/v1/admin/audit?{query}&limit=1")["total"]
    log_in(page, dev_server.base_url, ADMIN, path="/admin/")

    runners = page.locator('svg[data-chart="runners-by-status"]')
    bar = runners.locator('g[data-label="charts"]')
    expect(bar).to_have_attribute("data-total", "3")
    expect(bar.locator('rect[data-series="pending"]')).to_have_attribute("data-value", "3")
    expect(runners.locator("desc")).to_contain_text("charts: 3 runners (3 pending)")
    quota = page.locator('svg[data-chart="quota-use"] g[data-label="charts"]')
    expect(quota).to_have_attribute("data-value", "3")
    expect(quota).to_have_attribute("data-maximum", "4")
    expect(quota.locator("text").last).to_have_text("3 of 4")
    outcomes = page.locator('svg[data-chart="provisioning-outcomes"] g[data-label="success"]')
    expect(outcomes).to_have_attribute("data-value", str(succeeded))
    budget = page.locator('svg[data-chart="github-rate-limit"] g[data-label="remaining"]')
    remaining, limit = budget.get_attribute("data-value"), budget.get_attribute("data-maximum")
    assert remaining is not None
    assert limit is not None
    assert 0 <= int(remaining) <= int(limit)
    screenshot(page, "admin-overview")

    page.get_by_role("button", name="Run a sync cycle now").click()
    expect(page.get_by_role("status")).to_contain_text("sync cycle")
    expect(page.get_by_test_id("sync-status")).to_be_visible()
