"""Structured logs: one JSON object per line on stdout, with secrets masked before rendering.

Every line carries the context variables bound for the request (``request_id``), an ISO 8601 UTC
``timestamp`` and the ``level``. :func:`redact_secrets` runs last before the renderer, on the
event and on rendered tracebacks alike, so no JIT configuration, registration token, command
line, bearer token or key reaches the output, whoever logged it. Records of the standard
``logging`` module (uvicorn, SQLAlchemy, httpx) go through the same processors.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

#: Keys whose values are never logged (compared case-insensitively, ``-`` read as ``_``).
SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "encoded_jit_config",
        "jit_config",
        "jitconfig",
        "run_command",
        "config_command",
        "private_key",
        "private_key_pem",
        "webhook_secret",
        "password",
        "secret",
        "client_secret",
    }
)
_SENSITIVE_SUFFIXES = ("_token", "_secret", "_password", "_private_key", "_jit_config")

# A compact JWS/JWT (its header is base64url JSON, so it starts with "eyJ") and GitHub's own
# token formats (installation, user, OAuth, refresh, personal access tokens).
_SECRET_PATTERNS = re.compile(
    r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\bgh[opsur]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
)
_MAX_DEPTH = 8


def is_sensitive_key(key: object) -> bool:
    """Return whether values under ``key`` must never be logged."""
    if not isinstance(key, str):
        return False
    folded = key.lower().replace("-", "_")
    return folded in SENSITIVE_KEYS or folded.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    """Mask every JWT-looking or GitHub-token-looking run of characters in ``text``."""
    return _SECRET_PATTERNS.sub(REDACTED, text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with sensitive keys and token-looking strings masked, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return value if isinstance(value, int | float | bool | None) else REDACTED
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if is_sensitive_key(key) and item not in (None, "")
            else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask secrets in the whole event (keys, nested values, messages): a structlog processor."""
    redacted: MutableMapping[str, Any] = redact_value(event_dict)
    return dict(redacted)


def _json_default(value: object) -> str:
    return str(value)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


class _GhartsHandler(logging.StreamHandler[TextIO]):
    """The root handler :func:`configure_logging` installs (and replaces on a second call)."""

    def __init__(self, stream: TextIO, previous_level: int) -> None:
        super().__init__(stream)
        self.previous_level = previous_level  # the root level to restore on reset


def _level_number(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def configure_logging(
    json: bool = True,
    level: int | str = "INFO",
    *,
    stream: TextIO | None = None,
    cache_loggers: bool = False,
) -> None:
    """Send structlog and standard-library logs to ``stream`` (stdout), JSON unless ``json`` off.

    Calling this again (or :func:`reset_logging`) replaces the configuration, except for loggers
    cached under ``cache_loggers``: caching saves a little per call, but a logger used once keeps
    its first configuration for the life of the process. Only a process that configures logging
    once and for all should turn it on.
    """
    number = _level_number(level)
    renderer: Processor = (
        structlog.processors.JSONRenderer(default=_json_default)
        if json
        # Tracebacks are rendered (and redacted) before this renderer sees them.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*_shared_processors(), redact_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=cache_loggers,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_secrets,
            renderer,
        ],
    )
    root = logging.getLogger()
    previous_level = _remove_handlers(root)
    handler = _GhartsHandler(stream if stream is not None else sys.stdout, previous_level)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(number)
    # httpx logs every request line at INFO; the access log and metrics already say enough.
    logging.getLogger("httpx").setLevel(max(number, logging.WARNING))


def _remove_handlers(root: logging.Logger) -> int:
    """Remove our handlers; return the root level from before the first of them."""
    level = root.level
    for handler in list(root.handlers):
        if isinstance(handler, _GhartsHandler):
            root.removeHandler(handler)
            level = handler.previous_level
    return level


def reset_logging() -> None:
    """Undo :func:`configure_logging`: structlog's defaults, no gharts handler on the root."""
    structlog.reset_defaults()
    root = logging.getLogger()
    root.setLevel(_remove_handlers(root))
    logging.getLogger("httpx").setLevel(logging.NOTSET)
