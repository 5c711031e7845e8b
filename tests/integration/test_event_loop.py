"""``gharts serve`` runs on uvloop where it is installed, and on plain asyncio where it is not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from gharts_http.cli import event_loop


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_the_server_extra_brings_uvloop_and_the_commands_run_on_it() -> None:
    assert "uvloop" == event_loop.loop_name()
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_without_uvloop_the_commands_run_on_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # importing it now raises ImportError

    assert "asyncio" == event_loop.loop_name()
    assert event_loop.run(_loop_module()).startswith("asyncio")
