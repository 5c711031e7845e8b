"""What the ``gharts`` commands share: exit codes, settings, services, JSON output, arguments.

A command that needs the services runs through :func:`with_services`: settings loaded, logs
quieted to stderr (so stdout carries only the command's output), services bootstrapped, the
database checked, the action run, everything closed. Commands that never call GitHub get an
offline GitHub port when no GitHub App is configured. The settings come from
:func:`load_command_settings`, which falls back to the ``gharts dev`` database when there is no
configuration at all (:mod:`gharts_http.cli.locate`).
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import getpass
import json
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from gharts_core.errors import GitHubUnavailable, StorageUnavailable
from gharts_core.model import ObservedRunner, Principal
from gharts_core.ports.github import (
    JitConfig,
    JitRequest,
    ListedPage,
    RateLimitStatus,
    RegistrationToken,
)
from gharts_core.ports.storage import MAX_PAGE_SIZE
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli.locate import Located, locate_settings
from gharts_http.logging import configure_logging, reset_logging
from gharts_http.settings import GitHubMode, Settings, load_settings

SYSTEM = Principal.system()


def load(args: argparse.Namespace, *, require_github: bool) -> Settings:
    """Load the settings named by ``--config`` (``ConfigError`` lists the problems)."""
    return load_settings(args.config, require_github=require_github)


def load_command_settings(args: argparse.Namespace, *, require_github: bool) -> Located:
    """Load the settings of a one-shot command, saying on stderr when the dev database is used."""
    located = locate_settings(args.config, require_github=require_github)
    if located.notice:
        print(located.notice, file=sys.stderr)
    return located


MAX_ACTOR_LENGTH = 320  # the audit log's actor_name column


def default_actor() -> str:
    """Return ``<os-user>@<host>``, the operator's name when ``--actor`` is not given."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname() or 'localhost'}"


def actor_name(value: str) -> str:
    """Argument type: the operator's name in audit rows, 1-320 printable characters."""
    name = value.strip()
    if not name or len(name) > MAX_ACTOR_LENGTH or not name.isprintable():
        raise argparse.ArgumentTypeError(
            f"expected 1-{MAX_ACTOR_LENGTH} printable characters: {value!r}"
        )
    return name


def add_actor_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--actor NAME``: who the audit rows of this command's changes name."""
    parser.add_argument(
        "--actor",
        dest="operator",
        type=actor_name,
        metavar="NAME",
        help="who the audit log records as having made the change (default: <os-user>@<host>)",
    )


def operator(args: argparse.Namespace) -> Principal:
    """Return the principal a command acts as: the operator named by ``--actor`` or the OS."""
    return Principal.operator(getattr(args, "operator", None) or default_actor())


def quiet_logs(args: argparse.Namespace, default: str = "ERROR") -> None:
    """Send logs to stderr, as text, from ``--log-level`` (default: errors only)."""
    configure_logging(
        json=False, level=args.log_level or default, stream=sys.stderr, cache_loggers=False
    )


def with_services(
    args: argparse.Namespace,
    action: Callable[[Services], Awaitable[int]],
    *,
    require_github: bool = False,
) -> int:
    """Run ``action`` on freshly bootstrapped services and return its exit code."""
    located = load_command_settings(args, require_github=require_github)
    quiet_logs(args)
    try:
        return asyncio.run(_run(located, action))
    finally:
        reset_logging()


async def _run(located: Located, action: Callable[[Services], Awaitable[int]]) -> int:
    settings = located.settings
    if located.missing_file():
        raise StorageUnavailable(located.unavailable_hint())
    github = None
    app = settings.github
    if app.mode is GitHubMode.APP and not (app.app_id and app.installation_id and app.private_key):
        github = OfflineGitHub()
    services = bootstrap(settings, github=github)
    try:
        if not await services.store.ping():
            raise StorageUnavailable(located.unavailable_hint())
        return await action(services)
    finally:
        await services.aclose()


class OfflineGitHub:
    """The GitHub port for commands that never call GitHub, when no GitHub App is configured."""

    registration_url = "https://github.com"
    _DETAIL = "GitHub is not configured for this command (see [github] in the configuration)."

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Refuse: GitHub is not configured."""
        del request
        raise GitHubUnavailable(self._DETAIL)

    async def create_registration_token(self) -> RegistrationToken:
        """Refuse: GitHub is not configured."""
        raise GitHubUnavailable(self._DETAIL)

    async def list_runners(self) -> Sequence[ObservedRunner]:
        """Refuse: GitHub is not configured."""
        raise GitHubUnavailable(self._DETAIL)

    def listed_pages(self) -> Sequence[ListedPage]:
        """Nothing was ever listed."""
        return ()

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        """Nothing to remember them for: this GitHub never lists."""
        del pages

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Refuse: GitHub is not configured."""
        del github_runner_id
        raise GitHubUnavailable(self._DETAIL)

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Refuse: GitHub is not configured."""
        del github_runner_id
        raise GitHubUnavailable(self._DETAIL)

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        """Refuse: GitHub is not configured."""
        del repository, run_id
        raise GitHubUnavailable(self._DETAIL)

    def rate_limit(self) -> RateLimitStatus:
        """Nothing was ever reported."""
        return RateLimitStatus(limit=None, remaining=None, reset_at=None)


def _json_default(value: object) -> object:
    if attrs.has(type(value)):
        return attrs.asdict(value)  # type: ignore[arg-type]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(value: Any) -> None:
    """Print an attrs response object (or plain data) as indented JSON on stdout."""
    print(json.dumps(value, indent=2, sort_keys=True, default=_json_default))


def comma_list(value: str) -> tuple[str, ...]:
    """Argument type: ``a,b,c`` as a tuple of non-empty, stripped items."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def int_list(value: str) -> tuple[int, ...]:
    """Argument type: ``1,2`` as a tuple of integers."""
    try:
        return tuple(int(item) for item in comma_list(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas: {value!r}"
        ) from None


def page_size(value: str) -> int:
    """Argument type: a page size between 1 and :data:`MAX_PAGE_SIZE`."""
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"expected 1-{MAX_PAGE_SIZE}: {value!r}")
    return size


def non_negative(value: str) -> int:
    """Argument type: an integer of at least 0."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0: {value!r}")
    return number


def timestamp(value: str) -> datetime:
    """Argument type: an RFC 3339 / ISO 8601 time with its UTC offset."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"give the UTC offset too (e.g. {value}Z): {value!r}")
    return moment
