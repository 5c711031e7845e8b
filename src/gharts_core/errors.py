"""Every failure gharts reports, as one hierarchy.

Each error knows its machine-readable :class:`ErrorCode`; the HTTP layer maps codes to statuses in
one table. Errors carry structured attributes, never pre-formatted text that callers must parse.
The values they carry (:class:`Violation`, :class:`ViolationReason`, :class:`PolicyProblem`) are
defined here too, so that this module imports nothing else of gharts; :mod:`gharts_core.policy`
re-exports the first two as part of its public surface.

::

    GhartsError
    ├── InvalidToken                    INVALID_TOKEN
    ├── Forbidden
    │   ├── UserNotAuthorized           USER_NOT_AUTHORIZED
    │   ├── AdminRequired               ADMIN_REQUIRED
    │   ├── NotTeamMember               NOT_TEAM_MEMBER
    │   ├── TeamInactive                TEAM_INACTIVE
    │   ├── LabelPolicyViolation        LABEL_POLICY_VIOLATION   (.violations)
    │   └── RunnerGroupNotAllowed       RUNNER_GROUP_NOT_ALLOWED
    ├── TooManyRequests                                          (.retry_after)
    │   ├── QuotaExceeded               QUOTA_EXCEEDED
    │   └── RateLimited                 RATE_LIMITED
    ├── BadRequest
    │   ├── InvalidLabels               INVALID_LABELS           (.violations)
    │   ├── InvalidPolicy               INVALID_POLICY           (.problems)
    │   ├── ValidationFailed            VALIDATION_ERROR         (.field_errors)
    │   └── TeamRequired                TEAM_REQUIRED
    ├── NotFound
    │   ├── TeamNotFound                TEAM_NOT_FOUND
    │   ├── RunnerNotFound              RUNNER_NOT_FOUND
    │   ├── UserNotFound                USER_NOT_FOUND
    │   └── ClientNotFound              CLIENT_NOT_FOUND
    ├── Conflict                        CONFLICT
    ├── GitHubError
    │   ├── GitHubRateLimited           GITHUB_RATE_LIMITED      (.reset_at, .retry_after)
    │   └── GitHubUnavailable           GITHUB_UNAVAILABLE       (.status)
    ├── StorageUnavailable              SERVICE_UNAVAILABLE
    └── InternalError                   INTERNAL_ERROR
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

import attrs


class ErrorCode(enum.StrEnum):
    """The ``error_code`` values of the HTTP contract."""

    INVALID_TOKEN = "INVALID_TOKEN"
    USER_NOT_AUTHORIZED = "USER_NOT_AUTHORIZED"
    ADMIN_REQUIRED = "ADMIN_REQUIRED"
    NOT_TEAM_MEMBER = "NOT_TEAM_MEMBER"
    TEAM_INACTIVE = "TEAM_INACTIVE"
    LABEL_POLICY_VIOLATION = "LABEL_POLICY_VIOLATION"
    RUNNER_GROUP_NOT_ALLOWED = "RUNNER_GROUP_NOT_ALLOWED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_LABELS = "INVALID_LABELS"
    INVALID_POLICY = "INVALID_POLICY"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    TEAM_REQUIRED = "TEAM_REQUIRED"
    TEAM_NOT_FOUND = "TEAM_NOT_FOUND"
    RUNNER_NOT_FOUND = "RUNNER_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    CLIENT_NOT_FOUND = "CLIENT_NOT_FOUND"
    CONFLICT = "CONFLICT"
    GITHUB_RATE_LIMITED = "GITHUB_RATE_LIMITED"
    GITHUB_UNAVAILABLE = "GITHUB_UNAVAILABLE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ViolationReason(enum.StrEnum):
    """Why a label was refused."""

    INVALID_FORMAT = "invalid_format"
    NOT_ALLOWED = "not_allowed"
    TOO_MANY = "too_many"
    NO_CUSTOM_LABELS = "no_custom_labels"

    @property
    def is_format_problem(self) -> bool:
        """Whether this is a malformed request (400) rather than a policy refusal (403)."""
        return self is not ViolationReason.NOT_ALLOWED


@attrs.frozen
class Violation:
    """One refused label, with a machine-readable reason and a human sentence."""

    label: str
    reason: ViolationReason
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the JSON form used in error bodies."""
        return {"label": self.label, "reason": self.reason.value, "message": self.message}


@attrs.frozen
class PolicyProblem:
    """One reason a policy cannot be saved: the field, the offending value, why, and a sentence."""

    field: str
    value: str | None
    reason: str
    message: str


class GhartsError(Exception):
    """Base of every error gharts raises on purpose.

    ``detail`` is one human sentence; :meth:`extras` returns the structured fields the HTTP body
    carries beside ``detail`` and ``error_code``. ``team`` names the existing team the failed
    request was about, when the code that raised or passed the error on knew it.
    """

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR
    team: str | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extras(self) -> Mapping[str, object]:
        """Structured fields beyond ``detail`` and ``error_code`` (empty by default)."""
        return {}


class InvalidToken(GhartsError):
    """The bearer token is missing, malformed, expired, untrusted or badly signed."""

    code = ErrorCode.INVALID_TOKEN

    def __init__(
        self, detail: str = "Invalid or expired token.", *, reason: str = "invalid"
    ) -> None:
        super().__init__(detail)
        self.reason = reason


class Forbidden(GhartsError):
    """The caller is known but may not do this."""


class UserNotAuthorized(Forbidden):
    """Unknown or inactive user, unregistered or disabled client, or a missing capability."""

    code = ErrorCode.USER_NOT_AUTHORIZED


class AdminRequired(Forbidden):
    """An admin endpoint was called by a non-admin."""

    code = ErrorCode.ADMIN_REQUIRED

    def __init__(self, detail: str = "This operation requires an administrator.") -> None:
        super().__init__(detail)


class NotTeamMember(Forbidden):
    """The caller named a team they do not belong to."""

    code = ErrorCode.NOT_TEAM_MEMBER

    def __init__(self, team: str) -> None:
        super().__init__(f"You are not a member of team '{team}'.")
        self.team = team


class TeamInactive(Forbidden):
    """The team is deactivated."""

    code = ErrorCode.TEAM_INACTIVE

    def __init__(self, team: str, reason: str | None = None) -> None:
        suffix = f": {reason}" if reason else "."
        super().__init__(f"Team '{team}' is deactivated{suffix}")
        self.team = team
        self.reason = reason


class LabelPolicyViolation(Forbidden):
    """The team policy refuses some requested labels."""

    code = ErrorCode.LABEL_POLICY_VIOLATION

    def __init__(self, violations: Sequence[Violation], detail: str | None = None) -> None:
        refused = ", ".join(repr(v.label) for v in violations)
        super().__init__(detail or f"Labels not permitted by the team policy: {refused}.")
        self.violations = tuple(violations)

    def extras(self) -> Mapping[str, object]:
        """Return the offending labels with their reasons."""
        return {"violations": [v.as_dict() for v in self.violations]}


class RunnerGroupNotAllowed(Forbidden):
    """The requested runner group is outside the team's allowed list."""

    code = ErrorCode.RUNNER_GROUP_NOT_ALLOWED

    def __init__(self, runner_group_id: int, allowed: Sequence[int]) -> None:
        super().__init__(
            f"Runner group {runner_group_id} is not allowed for this team "
            f"(allowed: {', '.join(map(str, allowed))})."
        )
        self.runner_group_id = runner_group_id
        self.allowed = tuple(allowed)


class TooManyRequests(GhartsError):
    """Come back later; ``retry_after`` says when (seconds)."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def extras(self) -> Mapping[str, object]:
        """Return the number of seconds to wait."""
        return {"retry_after": self.retry_after}


class QuotaExceeded(TooManyRequests):
    """The team already has ``max_runners`` live runners."""

    code = ErrorCode.QUOTA_EXCEEDED

    def __init__(self, team: str, max_runners: int, *, retry_after: int = 60) -> None:
        super().__init__(
            f"Team '{team}' is at its quota of {max_runners} runners.", retry_after=retry_after
        )
        self.team = team
        self.max_runners = max_runners


class RateLimited(TooManyRequests):
    """The caller exceeded gharts' own request rate limit."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, *, retry_after: int) -> None:
        super().__init__("Too many requests; slow down.", retry_after=retry_after)


class BadRequest(GhartsError):
    """The request itself is wrong; retrying it unchanged will fail again."""


class InvalidLabels(BadRequest):
    """Labels that are malformed, none left after merging, or more than GitHub allows."""

    code = ErrorCode.INVALID_LABELS

    def __init__(self, violations: Sequence[Violation], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(v.message for v in violations) or "Invalid labels.")
        self.violations = tuple(violations)

    def extras(self) -> Mapping[str, object]:
        """Return the offending labels with their reasons."""
        return {"violations": [v.as_dict() for v in self.violations]}


class InvalidPolicy(BadRequest):
    """A team policy with a bad pattern or bad limits; ``problems`` names each one."""

    code = ErrorCode.INVALID_POLICY

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "Invalid policy.")
        self.problems = tuple(problems)

    def extras(self) -> Mapping[str, object]:
        """Each problem with the field, the offending value and the reason."""
        return {
            "problems": [
                {"field": p.field, "value": p.value, "reason": p.reason, "message": p.message}
                for p in self.problems
            ]
        }


class ValidationFailed(BadRequest):
    """A body or query that does not fit the schema; ``field_errors`` maps field to sentence."""

    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, field_errors: Mapping[str, str], detail: str | None = None) -> None:
        super().__init__(detail or "The request does not match the expected schema.")
        self.field_errors = dict(field_errors)

    def extras(self) -> Mapping[str, object]:
        """Return the offending fields with one sentence each."""
        return {"field_errors": self.field_errors}


class TeamRequired(BadRequest):
    """The caller belongs to several teams and named none."""

    code = ErrorCode.TEAM_REQUIRED

    def __init__(self, teams: Sequence[str]) -> None:
        super().__init__(
            "You belong to several teams; name one with team_name "
            f"(one of: {', '.join(sorted(teams))})."
        )
        self.teams = tuple(sorted(teams))


class NotFound(GhartsError):
    """Something addressed by name or id does not exist (or is not visible to the caller)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{self.what} '{key}' not found.")
        self.key = key

    what: ClassVar[str] = "Resource"


class TeamNotFound(NotFound):
    """No team by that name or id."""

    code = ErrorCode.TEAM_NOT_FOUND
    what = "Team"


class RunnerNotFound(NotFound):
    """No runner by that id, or not one the caller may see."""

    code = ErrorCode.RUNNER_NOT_FOUND
    what = "Runner"


class UserNotFound(NotFound):
    """No user by that id."""

    code = ErrorCode.USER_NOT_FOUND
    what = "User"


class ClientNotFound(NotFound):
    """No machine client by that id."""

    code = ErrorCode.CLIENT_NOT_FOUND
    what = "Client"


class Conflict(GhartsError):
    """The change clashes with existing state: duplicate name, last admin, active client."""

    code = ErrorCode.CONFLICT


class GitHubError(GhartsError):
    """GitHub refused or failed the call.

    ``request_sent`` is ``False`` when the call failed before its request left (the App's
    installation token could not be had): GitHub then cannot have acted on it.
    """

    request_sent: bool = True


class GitHubRateLimited(GitHubError):
    """GitHub's primary or secondary rate limit is exhausted until ``reset_at``."""

    code = ErrorCode.GITHUB_RATE_LIMITED

    def __init__(self, *, retry_after: int, reset_at: datetime | None = None) -> None:
        super().__init__(f"GitHub rate limit reached; retry in {retry_after} s.")
        self.retry_after = retry_after
        self.reset_at = reset_at

    def extras(self) -> Mapping[str, object]:
        """Return the number of seconds to wait."""
        return {"retry_after": self.retry_after}


class GitHubUnavailable(GitHubError):
    """GitHub answered with an error, or did not answer, after retries."""

    code = ErrorCode.GITHUB_UNAVAILABLE

    def __init__(
        self,
        detail: str = "GitHub is unavailable.",
        *,
        status: int | None = None,
        retry_after: int = 30,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after

    def extras(self) -> Mapping[str, object]:
        """Return the number of seconds to wait before trying again."""
        return {"retry_after": self.retry_after}


class StorageUnavailable(GhartsError):
    """The database cannot be reached or refused the connection."""

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(
        self, detail: str = "The database is unavailable.", *, retry_after: int = 5
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def extras(self) -> Mapping[str, object]:
        """Return the number of seconds to wait."""
        return {"retry_after": self.retry_after}


class InternalError(GhartsError):
    """A bug or an unexpected state; the detail never carries a stack trace."""

    code = ErrorCode.INTERNAL_ERROR

    def __init__(self, detail: str = "Internal server error.") -> None:
        super().__init__(detail)
