"""The label policy engine: which labels a team's runners may carry.

Patterns are RE2 expressions (see :mod:`gharts_core._patterns`): full match, case-insensitive,
linear time in the label length whatever an admin writes, compiled once per distinct pattern
list. Evaluation is a pure function; recent verdicts are remembered (bounded) because callers
send the same few labels again and again::

    >>> policy = LabelPolicy(required_labels=["team-a"], optional_label_patterns=["gpu-[a-z0-9]+"])
    >>> decision = evaluate_labels(policy, ["self-hosted", "GPU-A100"])
    >>> decision.allowed, decision.labels
    (True, ('gpu-a100', 'team-a'))
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

import attrs

from gharts_core._patterns import MAX_PATTERN_LENGTH, MAX_PATTERNS, Matcher, compile_patterns
from gharts_core.errors import (
    InvalidLabels,
    InvalidPolicy,
    LabelPolicyViolation,
    PolicyProblem,
    Violation,
    ViolationReason,
)

__all__ = [
    "MAX_CUSTOM_LABELS",
    "MAX_LABEL_LENGTH",
    "MAX_PATTERNS",
    "MAX_PATTERN_LENGTH",
    "SYSTEM_LABELS",
    "LabelDecision",
    "LabelPolicy",
    "Violation",
    "ViolationReason",
    "evaluate_labels",
    "is_system_label",
    "is_valid_label",
    "normalize_label",
]

SYSTEM_LABELS = frozenset(
    {"self-hosted", "linux", "windows", "macos", "x64", "x86", "arm", "arm64"}
)
MAX_LABEL_LENGTH = 100
MAX_CUSTOM_LABELS = 100

_LABEL_CHARACTERS = string.ascii_letters + string.digits + "._-:/"
_FORMAT_RULE = "1-100 characters from A-Z a-z 0-9 . _ - : /, starting with a letter or digit"
# Bounded, and wiped when full, so that hostile input cannot grow memory.
_MEMO_SIZE = 4096
_canonical_memo: dict[str, str] = {}


def is_valid_label(label: str) -> bool:
    """Return whether ``label`` has the allowed characters and length."""
    # Same as fullmatching [A-Za-z0-9][A-Za-z0-9._:/-]{0,99}, in a third of the time: strip()
    # leaves nothing only when every character is allowed, all of them ASCII, so isalnum() on
    # the first one cannot let a non-Latin digit through.
    return (
        0 < len(label) <= MAX_LABEL_LENGTH
        and not label.strip(_LABEL_CHARACTERS)
        and label[0].isalnum()
    )


def normalize_label(label: str) -> str:
    """Return the canonical (lower-case) form of a label; GitHub compares labels that way."""
    return label.lower()


def is_system_label(label: str) -> bool:
    """Return whether ``label`` is exactly one of GitHub's system labels (never a prefix)."""
    return label.isascii() and label.lower() in SYSTEM_LABELS


def _canonical(raw: str) -> str | None:
    """Return the lower-case form of a valid label, or ``None`` for a malformed one."""
    canonical = _canonical_memo.get(raw)
    if canonical is None:
        # "" stands for "malformed" in the memo: no valid label is empty.
        canonical = raw.lower() if is_valid_label(raw) else ""
        if len(raw) <= MAX_LABEL_LENGTH:
            if len(_canonical_memo) >= _MEMO_SIZE:
                _canonical_memo.clear()
            _canonical_memo[raw] = canonical
    return canonical or None


def _normalized_required(values: Iterable[str]) -> tuple[str, ...]:
    # Malformed labels stay as given, so that validation reports them as the admin wrote them
    # (lower-casing could turn some non-ASCII letters into valid ASCII ones).
    return tuple(sorted({normalize_label(v) if is_valid_label(v) else v for v in values}))


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _required_problems(labels: tuple[str, ...]) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    for label in labels:
        if not is_valid_label(label):
            problems.append(
                PolicyProblem(
                    "required_labels",
                    label,
                    "invalid_format",
                    f"Required label {label!r} is not a valid label ({_FORMAT_RULE}).",
                )
            )
        elif is_system_label(label):
            problems.append(
                PolicyProblem(
                    "required_labels",
                    label,
                    "system_label",
                    f"Required label {label!r} is a GitHub system label; GitHub adds it itself.",
                )
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


@attrs.frozen
class LabelPolicy:
    """A team's label policy: labels always added, and patterns other labels must fully match.

    Construction validates and compiles: a bad pattern or required label raises
    :class:`gharts_core.errors.InvalidPolicy` naming each problem.
    """

    required_labels: tuple[str, ...] = attrs.field(default=(), converter=_normalized_required)
    optional_label_patterns: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    _compiled: Matcher | None = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        pattern_problems, matcher = compile_patterns(self.optional_label_patterns)
        problems = _required_problems(self.required_labels) + list(pattern_problems)
        if problems:
            raise InvalidPolicy(problems)
        object.__setattr__(self, "_compiled", matcher)

    def allows_optional(self, label: str) -> bool:
        """Return whether a (normalised) label fully matches at least one optional pattern."""
        return self._compiled is not None and self._compiled.matches(label)

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


def _malformed(raw: str) -> Violation:
    shown = raw[: MAX_LABEL_LENGTH + 1].lower()
    return Violation(
        label=shown,
        reason=ViolationReason.INVALID_FORMAT,
        message=f"Label {shown[:40]!r} is not valid: use {_FORMAT_RULE}.",
    )


def _not_allowed(label: str) -> Violation:
    return Violation(
        label=label,
        reason=ViolationReason.NOT_ALLOWED,
        message=f"Label {label!r} matches none of the team's allowed patterns.",
    )


def evaluate_labels(policy: LabelPolicy, labels: Iterable[str]) -> LabelDecision:
    """Decide which requested labels the policy accepts; never raises on any string input.

    A bare string counts as one label, not as a sequence of one-character labels.
    """
    if isinstance(labels, str):
        labels = (labels,)
    matcher = policy._compiled
    accepted = set(policy.required_labels)
    malformed: dict[str, Violation] = {}
    refused: dict[str, Violation] = {}
    for raw in labels:
        label = _canonical(raw)
        if label is None:
            violation = _malformed(raw)
            malformed.setdefault(violation.label, violation)
        elif label in accepted or label in SYSTEM_LABELS or label in refused:
            continue
        elif matcher is not None and matcher.matches(label):
            accepted.add(label)
        else:
            refused[label] = _not_allowed(label)
    violations = [*malformed.values(), *refused.values()]
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
