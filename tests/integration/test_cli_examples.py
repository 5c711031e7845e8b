"""Every ``Example:`` line of every ``--help`` works, run as an operator would run it.

The examples are collected from the help texts themselves (so a new example is tested the day it
is written) and run in the order ``--help`` shows them, on one dev database: migrated SQLite
seeded as ``gharts dev`` seeds it, with the simulated GitHub. Commands that serve until stopped
are left out; their help is checked by ``test_cli.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from gharts_http.bootstrap import bootstrap
from gharts_http.cli.dev.data_dir import issuer_url
from gharts_http.cli.dev.seed import seed_dev_data
from gharts_http.cli.main import EXIT_OK, EXIT_USAGE, build_parser
from gharts_http.cli.parsing import EXAMPLE_PREFIX
from gharts_http.settings import load_settings
from tests.integration.cli_harness import Cli, make_cli

#: Commands that run until SIGINT: an example of theirs would never return.
LONG_RUNNING = {"serve", "worker", "dev", "simulator"}
# A cycle run by the command itself would meet a simulated GitHub of its own, empty.
NEED_A_SHARED_GITHUB = {"gharts sync trigger"}


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for name, sub in _subcommands(parser):
        if name not in LONG_RUNNING:
            yield from _parsers(sub)


def help_examples() -> list[str]:
    """Every ``Example:`` line of every help text, in the order the commands are registered."""
    return [
        line.strip().removeprefix(EXAMPLE_PREFIX)
        for parser in _parsers(build_parser())
        for line in parser.format_help().splitlines()
        if line.strip().startswith(EXAMPLE_PREFIX)
    ]


@pytest.fixture
def dev_cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """The CLI on a dev database (seeded like ``gharts dev``), run in an empty directory."""
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    async def seed() -> None:
        services = bootstrap(load_settings(cli.config))
        try:
            await seed_dev_data(services, issuer_url("http://127.0.0.1:8000"))
        finally:
            await services.aclose()

    asyncio.run(seed())
    return cli


def test_the_help_texts_carry_examples_of_every_command_group() -> None:
    """Each group of commands shows at least one example (so the test below has work)."""
    examples = help_examples()
    groups = {shlex.split(example)[1] for example in examples}

    expected = {"admin", "apply", "audit", "completion", "db", "export", "policy", "runners"}
    expected |= {"security-events", "stats", "sync"}
    assert set() == expected - groups


def test_every_example_in_the_help_works(dev_cli: Cli) -> None:
    """Each example exits 0 with no error line, in order, on the same dev database.

    But for those that need a GitHub shared with the server: on the dev database (simulator
    mode) they exit 2 naming what to do instead.
    """
    failures = []
    for example in help_examples():
        words = shlex.split(example)
        assert "gharts" == words[0], example
        result = dev_cli(*words[1:])
        if example in NEED_A_SHARED_GITHUB:
            works = result.code == EXIT_USAGE and "/api/v1/admin/sync/trigger" in result.err
        else:
            works = (result.code, result.err) == (EXIT_OK, "")
        if not works:
            failures.append(f"{example}: exit {result.code}: {result.err.strip()}")

    assert [] == failures
