"""gharts the service: the doors of the process over a shared ground.

``api/`` is the HTTP API, ``cli/`` the ``gharts`` command (``cli/dev/`` for ``gharts dev``),
``worker.py`` the sync worker and ``metrics/`` the Prometheus registry with the metering
decorators; ``bootstrap.py`` wires the core's services to the adapters and ``settings.py`` reads
the configuration. The names below are imported on first use, so that ``import gharts_http``
stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gharts_http.api.app import create_app
    from gharts_http.bootstrap import Services, bootstrap
    from gharts_http.settings import Settings, load_settings

__all__ = ["Services", "Settings", "bootstrap", "create_app", "load_settings"]

_HOMES = {
    "Services": "gharts_http.bootstrap",
    "Settings": "gharts_http.settings",
    "bootstrap": "gharts_http.bootstrap",
    "create_app": "gharts_http.api.app",
    "load_settings": "gharts_http.settings",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gharts_http' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
