"""Fixtures of the in-process dashboard tests: the seeded dev app, and one logged-in admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.dashboard.dashboard_support import DevDashboard, dev_dashboard, prepared


@pytest.fixture
async def dev(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[DevDashboard]:
    async with dev_dashboard(prepared(tmp_path / "dev", sqlite_template)) as running:
        yield running
