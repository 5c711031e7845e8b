"""Secrets never reach the log output: sensitive keys and token-looking values are masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from gharts_http.logging import (
    REDACTED,
    configure_logging,
    is_sensitive_key,
    redact_secrets,
    redact_text,
    reset_logging,
)

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
GITHUB_TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """JSON logs at debug level into a buffer; the default configuration afterwards."""
    stream = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=stream, cache_loggers=False)
    try:
        yield stream
    finally:
        reset_logging()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line of ``stream`` as a JSON object."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "key",
    [
        "authorization",
        "Authorization",
        "token",
        "encoded_jit_config",
        "jit_config",
        "run_command",
        "config_command",
        "private_key",
        "webhook_secret",
        "password",
        "secret",
        "installation_token",
        "client-secret",
    ],
)
def test_sensitive_keys_are_recognised(key: str) -> None:
    """Each key the brief names (and the obvious variants) is sensitive."""
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["event", "token_kind", "runner_name", "reason", "keys", 3])
def test_ordinary_keys_are_not(key: object) -> None:
    """Keys that merely mention a token are logged."""
    assert not is_sensitive_key(key)


def test_jwts_and_github_tokens_are_masked_inside_text() -> None:
    """A token inside a sentence is replaced; the sentence stays."""
    text = f"refused Bearer {JWT} and {GITHUB_TOKEN}."
    assert f"refused Bearer {REDACTED} and {REDACTED}." == redact_text(text)


@pytest.mark.parametrize("text", ["api.github.com", "1.2.3", "a.b.c", "runner-1.linux.x64"])
def test_dotted_names_are_not_mistaken_for_jwts(text: str) -> None:
    """Host names and versions have three dot-separated parts but are not tokens."""
    assert text == redact_text(text)


def test_the_processor_masks_nested_values() -> None:
    """Sensitive keys are masked at any depth, in mappings and in lists."""
    event = {
        "event": "github.call",
        "headers": {"Authorization": "token abc", "Accept": "application/json"},
        "runners": [{"name": "r1", "jit_config": "blob"}],
        "token": None,
    }
    expected = {
        "event": "github.call",
        "headers": {"Authorization": REDACTED, "Accept": "application/json"},
        "runners": [{"name": "r1", "jit_config": REDACTED}],
        "token": None,
    }
    assert expected == redact_secrets(None, "info", event)


def test_structlog_lines_are_json_with_secrets_masked(output: io.StringIO) -> None:
    """A line carries timestamp, level and context; its secrets are masked."""
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        structlog.get_logger("t").info(
            "provisioned", run_command=f"./run.sh --jitconfig {JWT}", note=f"saw {JWT}"
        )
    (line,) = lines(output)
    assert {"event", "level", "timestamp", "request_id", "run_command", "note"} == set(line)
    assert ("info", "req-1", REDACTED, f"saw {REDACTED}") == (
        line["level"],
        line["request_id"],
        line["run_command"],
        line["note"],
    )
    assert line["timestamp"].endswith("Z")


def fail_with_token() -> None:
    """Raise an error whose message holds a GitHub token."""
    raise RuntimeError(f"GitHub refused {GITHUB_TOKEN}")


def test_tracebacks_are_rendered_and_masked(output: io.StringIO) -> None:
    """An exception whose message holds a token is logged without the token."""
    try:
        fail_with_token()
    except RuntimeError:
        structlog.get_logger("t").exception("github.failed")
    (line,) = lines(output)
    assert "RuntimeError" in line["exception"]
    assert GITHUB_TOKEN not in output.getvalue()


def test_standard_library_records_go_through_the_same_pipeline(output: io.StringIO) -> None:
    """uvicorn, SQLAlchemy and friends log JSON with secrets masked too."""
    logging.getLogger("uvicorn.error").warning("header was Bearer %s", JWT)
    (line,) = lines(output)
    expected = ("warning", "uvicorn.error", f"header was Bearer {REDACTED}")
    assert expected == (line["level"], line["logger"], line["event"])


def test_the_level_filters_lines(output: io.StringIO) -> None:
    """Below the configured level nothing is written."""
    configure_logging(json=True, level="WARNING", stream=output, cache_loggers=False)
    structlog.get_logger("t").info("quiet")
    logging.getLogger("x").info("quiet too")
    structlog.get_logger("t").warning("loud")
    assert ["loud"] == [line["event"] for line in lines(output)]


def test_console_rendering_masks_secrets_too() -> None:
    """The human-readable renderer gets the same redaction."""
    stream = io.StringIO()
    configure_logging(json=False, level="INFO", stream=stream, cache_loggers=False)
    try:
        structlog.get_logger("t").info("login", authorization=f"Bearer {JWT}")
    finally:
        reset_logging()
    assert "authorization=[REDACTED]" in stream.getvalue()
    assert JWT not in stream.getvalue()


def test_an_unknown_level_is_refused() -> None:
    """A typo in the level is an error, not silence."""
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(level="LOUD")


def test_reset_restores_the_root_logger() -> None:
    """After reset the root logger has its old level and no gharts handler."""
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    configure_logging(level="DEBUG", stream=io.StringIO(), cache_loggers=False)
    configure_logging(level="ERROR", stream=io.StringIO(), cache_loggers=False)
    reset_logging()
    assert before == (root.level, list(root.handlers))
