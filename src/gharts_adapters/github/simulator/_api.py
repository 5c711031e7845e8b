"""GitHub's conventions the simulator copies: error bodies, credentials, Link headers, scopes."""

from __future__ import annotations

import http
import math
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from gharts_adapters.github.scope import GitHubScope

DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
MAX_JWT_LIFETIME = 600  # GitHub refuses app JWTs expiring more than 10 minutes ahead
JWT_LEEWAY = 60
_BAD_JWT = "A JSON web token could not be decoded"
_BAD_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."  # noqa: E501
_BAD_EXP = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."  # noqa: E501
_FAR_EXP = "'Expiration time' claim ('exp') is too far in the future"


@attrs.frozen
class Result:
    """One simulated response."""

    status: int
    body: Any = None  # a JSON value, pre-encoded JSON bytes, or None for no body
    headers: dict[str, str] = attrs.field(factory=dict)


def error(status: int, message: str, *, doc: str = DOCS) -> Result:
    """Return GitHub's error body (``message``, ``documentation_url``, ``status``)."""
    body = {"message": message, "documentation_url": doc, "status": str(status)}
    return Result(status, body)


def reason(status: int) -> str:
    """Return the standard reason phrase of ``status``."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def timestamp(moment: datetime) -> str:
    """Format a time the way GitHub does (``2026-01-01T12:00:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scope_key(text: str) -> str:
    """Normalise ``org:Acme`` to ``org:acme`` (GitHub owners are case-insensitive)."""
    scope = GitHubScope.parse(text)
    return f"{scope.kind.value}:{scope.name.lower()}"


def bearer(authorization: str | None) -> str | None:
    """Return the credential of ``Bearer x`` or ``token x``."""
    if not authorization:
        return None
    kind, _, value = authorization.partition(" ")
    return value.strip() or None if kind.lower() in {"bearer", "token"} else None


def link_header(url: str, page: int, per_page: int, total: int) -> str | None:
    """Return GitHub's ``Link`` header (next/last, prev/first) for ``page`` of ``total``."""
    last = max(math.ceil(total / per_page), 1)
    if last == 1 and page == 1:
        return None
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"page", "per_page"}]

    def at(number: int) -> str:
        params = urlencode([*query, ("per_page", per_page), ("page", number)])
        return urlunsplit(parts._replace(query=params))

    links = []
    if page > 1:
        links += [f'<{at(page - 1)}>; rel="prev"']
    if page < last:
        links += [f'<{at(page + 1)}>; rel="next"', f'<{at(last)}>; rel="last"']
    if page > 1:
        links += [f'<{at(1)}>; rel="first"']
    return ", ".join(links)


def jit_body_problem(body: Any) -> str | None:
    """Return why a ``generate-jitconfig`` body is invalid, or ``None``."""
    if not isinstance(body, dict):
        return "Invalid request.\n\nBody must be a JSON object."
    name, group, labels = body.get("name"), body.get("runner_group_id"), body.get("labels")
    problem = None
    if not isinstance(name, str) or not name.strip():
        problem = "name must be a non-empty string"
    elif not isinstance(group, int) or isinstance(group, bool) or group < 1:
        problem = "runner_group_id must be a positive integer"
    elif not isinstance(labels, list) or not 1 <= len(labels) <= 100:
        problem = "labels must be a list of 1 to 100 strings"
    elif not all(isinstance(label, str) and label for label in labels):
        problem = "labels must be non-empty strings"
    elif not isinstance(body.get("work_folder", "_work"), str):
        problem = "work_folder must be a string"
    return None if problem is None else f"Invalid request.\n\n{problem}."


class AppKey:
    """The GitHub App's public key and id: what GitHub checks app JWTs against."""

    def __init__(self, public_key_pem: str | bytes, app_id: int) -> None:
        self._key = RSAKey.import_key(public_key_pem)
        self._app_id = str(app_id)

    def problem(self, token: str | None, now: datetime) -> str | None:
        """Return GitHub's complaint about an app JWT, or ``None`` when it is acceptable."""
        try:
            claims = jwt.decode(token or "", self._key, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _BAD_JWT
        iat, exp, iss = claims.get("iat"), claims.get("exp"), claims.get("iss")
        seconds = now.timestamp()
        checks = (
            (_integer(iat) and iat <= seconds + JWT_LEEWAY, _BAD_IAT),
            (_integer(exp) and exp > seconds, _BAD_EXP),
            (_integer(exp) and exp <= seconds + MAX_JWT_LIFETIME, _FAR_EXP),
            (str(iss) == self._app_id, _BAD_JWT),
        )
        return next((message for passed, message in checks if not passed), None)


def _integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
