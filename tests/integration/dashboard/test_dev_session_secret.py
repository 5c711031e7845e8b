"""``gharts dev`` keeps the dashboard's session secret in its data directory across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

from gharts_http.cli.dev.data_dir import SESSION_SECRET_FILE, session_secret_path
from tests.integration.dashboard.dashboard_support import dev_dashboard, log_in, prepared


async def test_a_dashboard_login_outlives_a_restart_of_gharts_dev(
    tmp_path: Path, sqlite_template: Path
) -> None:
    data_dir = prepared(tmp_path / "dev", sqlite_template)
    async with dev_dashboard(data_dir) as first:
        await log_in(first.http, path="/teams")
        cookie = first.http.cookies["gharts_session"]
    secret = data_dir / SESSION_SECRET_FILE
    written = secret.read_text(encoding="utf-8")

    async with dev_dashboard(data_dir) as second:
        second.http.cookies.set("gharts_session", cookie, domain="127.0.0.1", path="/")
        teams = await second.http.get("/teams", follow_redirects=False)

    assert (200, written) == (teams.status_code, secret.read_text(encoding="utf-8"))
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(written.strip()) >= 43  # 32 random bytes, base64url


def test_each_data_directory_has_a_secret_of_its_own(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first = session_secret_path(one).read_text(encoding="utf-8")
    assert first == session_secret_path(one).read_text(encoding="utf-8")
    assert first != session_secret_path(two).read_text(encoding="utf-8")
