"""Which database a one-shot ``gharts`` command uses, and what to say when it does not answer.

With a configuration (``--config``, ``$GHARTS_CONFIG``, ``./gharts.toml`` or
``GHARTS_DATABASE__URL``) the command uses it. With none at all, in a directory where ``gharts
dev`` keeps its data (``.gharts-dev/gharts.db``), it uses the dev database and the simulated
GitHub, and says so in one line on stderr: the database ``gharts dev`` shows is the one the
operator then reads and changes. Otherwise the built-in default applies.

When the database does not answer, the hint names the URL that was tried (password masked) and
the exact ``gharts db upgrade`` command that migrates that same database.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

import attrs

from gharts_http.cli.dev.data_dir import DATABASE_FILE, DEFAULT_DATA_DIR
from gharts_http.cli.dev.data_dir import database_url as dev_database_url
from gharts_http.settings import DEFAULT_CONFIG_FILE, Settings, load_settings

__all__ = ["Located", "locate_settings", "masked_url", "sqlite_file"]

_CREDENTIALS = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*@")


def masked_url(url: str) -> str:
    """Return ``url`` with the password, if any, replaced by ``***``."""
    return _CREDENTIALS.sub(r"\g<head>***@", url)


def sqlite_file(url: str) -> Path | None:
    """Return the file of a SQLite URL (``None`` for other databases and in-memory ones).

    Connecting to a SQLite file that does not exist creates it, empty: a command that only reads
    checks for the file first, so that a wrong directory does not leave a stray ``gharts.db``.
    """
    scheme, separator, rest = url.partition(":///")
    if not separator or not scheme.startswith("sqlite"):
        return None
    path = rest.partition("?")[0]
    return None if path in ("", ":memory:") else Path(path)


@attrs.frozen
class Located:
    """The settings a command runs with, where they came from, and how to migrate that database.

    ``notice`` is the line to print on stderr when the dev database was chosen for the operator.
    """

    settings: Settings
    upgrade_command: str
    notice: str | None = None

    def unavailable_hint(self) -> str:
        """Return the sentence for a database that is unreachable or not migrated."""
        url = self.settings.database.url
        file = sqlite_file(url)
        if file is not None and not file.is_file():
            other = (
                ""
                if "--config" in self.upgrade_command
                else ", or name the configuration with --config"
            )
            return (
                f"There is no database at {url} (no file {file}). Create it with "
                f"`{self.upgrade_command}`{other}."
            )
        return (
            f"The database {masked_url(url)} is unreachable or not migrated. If it is "
            f"reachable, migrate it with `{self.upgrade_command}`."
        )

    def missing_file(self) -> bool:
        """Tell whether the database is a SQLite file that does not exist."""
        file = sqlite_file(self.settings.database.url)
        return file is not None and not file.is_file()


def _has_configuration(config: str | None, env: Mapping[str, str], cwd: Path) -> bool:
    return bool(
        config
        or env.get("GHARTS_CONFIG")
        or env.get("GHARTS_DATABASE__URL")
        or (cwd / DEFAULT_CONFIG_FILE).exists()
    )


def locate_settings(
    config: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    require_github: bool,
) -> Located:
    """Load the settings for a command run with ``--config config`` (``None``: not given)."""
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    dev_database = here / DEFAULT_DATA_DIR / DATABASE_FILE
    if _has_configuration(config, env, here) or not dev_database.is_file():
        settings = load_settings(config, env, require_github=require_github)
        prefix = f"gharts --config {shlex.quote(config)}" if config else "gharts"
        return Located(settings, f"{prefix} db upgrade")
    url = dev_database_url(here / DEFAULT_DATA_DIR)
    overridden = {
        **env,
        "GHARTS_DATABASE__URL": url,
        "GHARTS_GITHUB__MODE": env.get("GHARTS_GITHUB__MODE", "simulator"),
    }
    settings = load_settings(None, overridden, require_github=require_github)
    notice = (
        f"gharts: no configuration found; using the gharts dev database "
        f"{DEFAULT_DATA_DIR}/{DATABASE_FILE} (give --config to use another)"
    )
    return Located(settings, f"gharts db upgrade --url {shlex.quote(url)}", notice)
