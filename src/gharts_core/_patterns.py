"""Pattern validation and matching for the policy engine (RE2, never a backtracking engine).

A policy's optional patterns are compiled once per distinct pattern list into one RE2 set,
anchored at both ends and case-insensitive, so matching is linear in the label length whatever
an admin writes.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

from gharts_core.errors import PolicyProblem

MAX_PATTERN_LENGTH = 256
MAX_PATTERNS = 64
# Callers send the same few labels to a team over and over; bounded so that hostile input cannot
# grow memory (at most 128 pattern lists are kept, each remembering 1024 verdicts).
_VERDICTS = 1024


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


_OPTIONS = _options()


def _decoded(error: Exception) -> str:
    reason = error.args[0] if error.args else "unknown error"
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _pattern_problem(pattern: str) -> PolicyProblem | None:
    field = "optional_label_patterns"
    if not pattern:
        return PolicyProblem(field, pattern, "empty", "A pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PolicyProblem(
            field,
            pattern[:40] + "...",
            "too_long",
            f"Pattern {pattern[:40]!r}... is {len(pattern)} characters; "
            f"at most {MAX_PATTERN_LENGTH} are allowed.",
        )
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        return PolicyProblem(
            field,
            pattern,
            "invalid_regex",
            f"Pattern {pattern!r} is not a valid RE2 expression: {_decoded(error)}.",
        )
    return None


class Matcher:
    """The optional patterns of a policy, compiled, with a bounded memo of verdicts."""

    __slots__ = ("_match", "_memo")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._memo: dict[str, bool] = {}
        pattern_set = re2.Set.FullMatchSet(_OPTIONS)
        for pattern in patterns:
            pattern_set.Add(pattern)
        try:
            pattern_set.Compile()
            self._match = pattern_set.Match
        except re2.error:
            # Patterns that each fit RE2's memory budget may not fit it together: match them one
            # by one rather than refuse a policy whose every pattern is valid.
            regexes = [re2.compile(pattern, _OPTIONS) for pattern in patterns]
            self._match = lambda label: any(r.fullmatch(label) for r in regexes)

    def matches(self, label: str) -> bool:
        """Return whether the label fully matches at least one pattern."""
        verdict = self._memo.get(label)
        if verdict is None:
            verdict = bool(self._match(label))
            if len(self._memo) >= _VERDICTS:
                self._memo.clear()
            self._memo[label] = verdict
        return verdict


@functools.lru_cache(maxsize=128)
def compile_patterns(patterns: tuple[str, ...]) -> tuple[tuple[PolicyProblem, ...], Matcher | None]:
    """Validate and compile a pattern list once; storage rebuilds the same policies often."""
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
    problems.extend(p for p in map(_pattern_problem, patterns) if p is not None)
    if problems or not patterns:
        return tuple(problems), None
    return (), Matcher(patterns)
