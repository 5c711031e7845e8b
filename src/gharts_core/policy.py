"""The label policy engine: which labels a team's runners may carry.

Patterns are compiled once per policy into one RE2 set (linear time in the label length, whatever
an admin writes), anchored at both ends and case-insensitive. Evaluation is a pure function::

    >>> policy = LabelPolicy(required_labels=["team-a"], optional_label_patterns=["gpu-[a-z0-9]+"])
    >>> decision = evaluate_labels(policy, ["self-hosted", "GPU-A100"])
    >>> decision.allowed, decision.labels
    (True, ('gpu-a100', 'team-a'))
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import re2

from gharts_core.errors import InvalidLabels, InvalidPolicy, LabelPolicyViolation, PolicyProblem

SYSTEM_LABELS = frozenset(
    {"self-hosted", "linux", "windows", "macos", "x64", "x86", "arm", "arm64"}
)
MAX_LABEL_LENGTH = 100
MAX_CUSTOM_LABELS = 100
MAX_PATTERN_LENGTH = 256
MAX_PATTERNS = 64

# Letters, digits and . _ - : /, starting with a letter or digit, 1-100 characters. ASCII only:
# str.isalnum() would let non-Latin digits through.
_LABEL_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}", re.ASCII)


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


def is_valid_label(label: str) -> bool:
    """Return whether ``label`` has the allowed characters and length."""
    return _LABEL_FORMAT.fullmatch(label) is not None


def normalize_label(label: str) -> str:
    """Return the canonical (lower-case) form of a label; GitHub compares labels that way."""
    return label.lower()


def is_system_label(label: str) -> bool:
    """Return whether ``label`` is exactly one of GitHub's system labels (never a prefix)."""
    return label.lower() in SYSTEM_LABELS


def _normalized_required(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({normalize_label(v) for v in values}))


def _pattern_problems(patterns: tuple[str, ...]) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    if len(patterns) > MAX_PATTERNS:
        problems.append(
            PolicyProblem(
                "optional_label_patterns",
                None,
                "too_many_patterns",
                f"A team may have at most {MAX_PATTERNS} patterns ({len(patterns)} given).",
            )
        )
    for pattern in patterns:
        if not pattern:
            problems.append(
                PolicyProblem("optional_label_patterns", pattern, "empty", "A pattern is empty.")
            )
        elif len(pattern) > MAX_PATTERN_LENGTH:
            problems.append(
                PolicyProblem(
                    "optional_label_patterns",
                    pattern[:40] + "...",
                    "too_long",
                    f"A pattern is {len(pattern)} characters; "
                    f"at most {MAX_PATTERN_LENGTH} are allowed.",
                )
            )
        else:
            try:
                re2.compile(pattern, _OPTIONS)
            except re2.error as error:
                reason = error.args[0]
                if isinstance(reason, bytes):
                    reason = reason.decode("utf-8", "replace")
                problems.append(
                    PolicyProblem(
                        "optional_label_patterns",
                        pattern,
                        "invalid_regex",
                        f"Pattern {pattern!r} is not a valid RE2 expression: {reason}.",
                    )
                )
    return problems


def _required_problems(labels: tuple[str, ...]) -> list[PolicyProblem]:
    problems = [
        PolicyProblem(
            "required_labels",
            label,
            "invalid_format",
            f"Required label {label!r} is not a valid label (1-100 characters from "
            "A-Z a-z 0-9 . _ - : /, starting with a letter or digit).",
        )
        for label in labels
        if not is_valid_label(label)
    ]
    problems.extend(
        PolicyProblem(
            "required_labels",
            label,
            "system_label",
            f"Required label {label!r} is a GitHub system label; GitHub adds it by itself.",
        )
        for label in labels
        if is_system_label(label)
    )
    if len(labels) > MAX_CUSTOM_LABELS:
        problems.append(
            PolicyProblem(
                "required_labels",
                None,
                "too_many",
                f"At most {MAX_CUSTOM_LABELS} required labels are allowed ({len(labels)} given).",
            )
        )
    return problems


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


_OPTIONS = _options()


def _compile_set(patterns: tuple[str, ...]) -> Any:
    if not patterns:
        return None
    pattern_set = re2.Set.FullMatchSet(_OPTIONS)
    for pattern in patterns:
        pattern_set.Add(pattern)
    pattern_set.Compile()
    return pattern_set


@attrs.frozen
class LabelPolicy:
    """A team's label policy: labels always added, and patterns other labels must fully match.

    Construction validates and compiles: a bad pattern or required label raises
    :class:`gharts_core.errors.InvalidPolicy` naming each problem.
    """

    required_labels: tuple[str, ...] = attrs.field(default=(), converter=_normalized_required)
    optional_label_patterns: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    _compiled: Any = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems = _required_problems(self.required_labels) + _pattern_problems(
            self.optional_label_patterns
        )
        if problems:
            raise InvalidPolicy(problems)
        object.__setattr__(self, "_compiled", _compile_set(self.optional_label_patterns))

    def allows_optional(self, label: str) -> bool:
        """Return whether a (normalised) label fully matches at least one optional pattern."""
        return self._compiled is not None and self._compiled.Match(label) is not None

    def as_dict(self) -> Mapping[str, list[str]]:
        """Return the JSON form stored in the database and shown to admins."""
        return {
            "required_labels": list(self.required_labels),
            "optional_label_patterns": list(self.optional_label_patterns),
        }


@attrs.frozen
class LabelDecision:
    """The result of evaluating labels against a policy.

    ``labels`` is the final custom label set (required plus accepted optional, lower case, sorted,
    system labels removed); ``violations`` has one entry per refused label.
    """

    allowed: bool
    labels: tuple[str, ...]
    violations: tuple[Violation, ...]

    def raise_if_refused(self) -> None:
        """Raise ``InvalidLabels`` for malformed input, ``LabelPolicyViolation`` for refusals."""
        if self.allowed:
            return
        malformed = [v for v in self.violations if v.reason.is_format_problem]
        if malformed:
            raise InvalidLabels(malformed)
        raise LabelPolicyViolation(self.violations)


def evaluate_labels(policy: LabelPolicy, labels: Iterable[str]) -> LabelDecision:
    """Decide which requested labels the policy accepts; never raises on any string input."""
    violations: list[Violation] = []
    accepted: set[str] = set(policy.required_labels)
    seen: set[str] = set()
    for raw in labels:
        label = normalize_label(raw)
        if label in seen:
            continue
        seen.add(label)
        if not is_valid_label(raw):
            violations.append(
                Violation(
                    label=label[: MAX_LABEL_LENGTH + 1],
                    reason=ViolationReason.INVALID_FORMAT,
                    message=(
                        f"Label {label[:40]!r} is not valid: use 1-100 characters from "
                        "A-Z a-z 0-9 . _ - : / starting with a letter or digit."
                    ),
                )
            )
        elif label in SYSTEM_LABELS or label in accepted:
            continue
        elif policy.allows_optional(label):
            accepted.add(label)
        else:
            violations.append(
                Violation(
                    label=label,
                    reason=ViolationReason.NOT_ALLOWED,
                    message=f"Label {label!r} matches none of the team's allowed patterns.",
                )
            )
    if len(accepted) > MAX_CUSTOM_LABELS:
        violations.append(
            Violation(
                label="",
                reason=ViolationReason.TOO_MANY,
                message=(
                    f"{len(accepted)} custom labels; GitHub allows at most {MAX_CUSTOM_LABELS}."
                ),
            )
        )
    elif not accepted and not violations:
        violations.append(
            Violation(
                label="",
                reason=ViolationReason.NO_CUSTOM_LABELS,
                message="At least one custom (non-system) label is required.",
            )
        )
    ordered = tuple(sorted(violations, key=lambda v: (v.reason.value, v.label)))
    return LabelDecision(allowed=not ordered, labels=tuple(sorted(accepted)), violations=ordered)
