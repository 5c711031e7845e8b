"""What ``gharts dev`` keeps in its data directory, and the addresses derived from it.

The data directory (``.gharts-dev/`` by default) holds the SQLite database, the simulated GitHub's
runners (``github.json``), the development issuer's keys, the dashboard's session secret and the
address the last run served on; ``gharts dev --reset`` deletes exactly these files. Both halves
of ``gharts dev`` (the server and ``gharts dev token``) read them from here.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from gharts_adapters.identity.dev_issuer import KEY_FILE

DEFAULT_DATA_DIR = ".gharts-dev"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DATABASE_FILE = "gharts.db"
STATE_FILE = "dev.json"
GITHUB_FILE = "github.json"
SESSION_SECRET_FILE = "dashboard-session-secret"  # noqa: S105 - a file name, not a secret
ISSUER_PATH = "/dev/oidc"
_RESET_FILES = (
    DATABASE_FILE,
    f"{DATABASE_FILE}-wal",
    f"{DATABASE_FILE}-shm",
    f"{DATABASE_FILE}-journal",
    KEY_FILE,
    STATE_FILE,
    GITHUB_FILE,
    SESSION_SECRET_FILE,
)


def public_url_for(host: str, port: int) -> str:
    """Return the URL a local client reaches a server listening on ``host``:``port`` at."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping a wildcard bind to a reachable address
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def issuer_url(public_url: str) -> str:
    """Return the dev issuer's URL for a server reachable at ``public_url``."""
    return public_url.rstrip("/") + ISSUER_PATH


def reset(data_dir: Path) -> None:
    """Delete the dev database, the simulated GitHub, the keys, the secret and the address."""
    for name in _RESET_FILES:
        (data_dir / name).unlink(missing_ok=True)


def record_public_url(data_dir: Path, public_url: str) -> None:
    """Remember where this run serves, for ``gharts dev token``."""
    (data_dir / STATE_FILE).write_text(json.dumps({"public_url": public_url}) + "\n")


def recorded_public_url(data_dir: Path) -> str | None:
    """Return the URL the last ``gharts dev`` run in ``data_dir`` served on, if it recorded one."""
    try:
        recorded = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = recorded.get("public_url") if isinstance(recorded, dict) else None
    return url if isinstance(url, str) else None


def database_url(data_dir: Path) -> str:
    """Return the SQLite URL of the dev database inside ``data_dir``."""
    return f"sqlite+aiosqlite:///{data_dir.resolve() / DATABASE_FILE}"


def session_secret_path(data_dir: Path) -> Path:
    """Return the dashboard's session secret file in ``data_dir``, creating it when missing.

    The file is created readable by its owner only (0600) and reused by every later run, so
    restarting ``gharts dev`` keeps the people logged in to the dashboard logged in.
    """
    path = data_dir / SESSION_SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    return path
