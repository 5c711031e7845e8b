"""Hypothesis strategies for labels and label policies (re-exported by ``strategies``)."""

from __future__ import annotations

import functools
import re
import string
import warnings

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from gharts_core.policy import (
    MAX_CUSTOM_LABELS,
    MAX_LABEL_LENGTH,
    SYSTEM_LABELS,
    LabelPolicy,
    is_system_label,
    is_valid_label,
)

LABEL_ALPHABET = string.ascii_letters + string.digits + "._:/-"
_HEAD = string.ascii_lowercase + string.digits
_TAIL = _HEAD + "._:/-"
_SEPARATORS = "._:/-"
# One bit per character: Hypothesis shrinks the mask to 0, i.e. to the text as given.
_CASE_MASKS = st.integers(0, 2**MAX_LABEL_LENGTH - 1)


def _apply_case(text: str, mask: int) -> str:
    # ASCII only: swapcase() changes the length or meaning of some other letters ("ß" -> "SS").
    return "".join(c.swapcase() if mask >> i & 1 and c.isascii() else c for i, c in enumerate(text))


def _cased(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(_apply_case, texts, _CASE_MASKS)


def any_case(text: str) -> st.SearchStrategy[str]:
    """Return ``text`` with any mix of upper- and lower-case ASCII letters (shrinks to as is)."""
    return _cased(st.just(text))


def _not_system(label: str) -> str:
    # A map, not a filter: Hypothesis re-validates filtered strategies on every draw, slowly.
    return "0" + label[1:] if label in SYSTEM_LABELS else label


def labels(*, max_size: int = MAX_LABEL_LENGTH) -> st.SearchStrategy[str]:
    """Generate valid custom labels in canonical form: lower case, never a system label."""
    return _labels(max_size)


@functools.cache
def _labels(max_size: int) -> st.SearchStrategy[str]:
    return st.builds(
        str.__add__, st.sampled_from(_HEAD), st.text(_TAIL, max_size=max_size - 1)
    ).map(_not_system)


def system_labels() -> st.SearchStrategy[str]:
    """Generate GitHub's system labels in any case (``Self-Hosted``, ``X64``, ...)."""
    return _SYSTEM_LABELS


def invalid_labels() -> st.SearchStrategy[str]:
    """Generate strings that are not valid labels: empty, too long, bad start or bad character."""
    return _INVALID_LABELS


_SYSTEM_LABELS = _cased(st.sampled_from(sorted(SYSTEM_LABELS)))
_INVALID_LABELS = st.one_of(
    st.just(""),
    st.builds(str.__add__, st.sampled_from(_SEPARATORS), st.text(_TAIL, max_size=20)),
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        _labels(20),
        st.characters(exclude_characters=LABEL_ALPHABET),
        st.text(LABEL_ALPHABET, max_size=10),
    ),
    st.builds(str.__add__, st.sampled_from(_HEAD), st.text(_TAIL, min_size=100, max_size=120)),
)
_WORDS = st.text(_HEAD, min_size=1, max_size=6).map(_not_system)
_LITERALS = st.builds(
    lambda first, rest: first + "".join(sep.replace(".", r"\.") + w for sep, w in rest),
    _cased(_WORDS),
    st.lists(st.tuples(st.sampled_from(_SEPARATORS), _WORDS), max_size=1),
)
_ALTERNATIONS = st.lists(_LITERALS, min_size=2, max_size=3).map(lambda ws: f"({'|'.join(ws)})")
_SEPARATOR_PATTERNS = st.sampled_from(["-", r"\.", "_", ":", "/"])
_TAILS = st.one_of(
    st.builds(str.__add__, _SEPARATOR_PATTERNS, st.one_of(_LITERALS, _ALTERNATIONS)),
    st.builds(str.__add__, _SEPARATOR_PATTERNS, st.sampled_from(["[a-z0-9]+", r"\d{1,3}"])),
    st.sampled_from([".*", "[a-z0-9]*"]),
)
# Every pattern begins like a label and means the same in RE2 and Python's re.
_PATTERNS = st.builds(
    lambda anchored, head, tails: ("^{}$" if anchored else "{}").format(head + "".join(tails)),
    st.booleans(),
    st.one_of(
        _LITERALS, _ALTERNATIONS, st.sampled_from(["[a-z0-9]+", "[A-Z][a-z0-9]*", r"\d{1,3}"])
    ),
    st.lists(_TAILS, max_size=2),
)
_REQUIRED = _cased(_labels(30))


@st.composite
def label_policies(
    draw: st.DrawFn, *, max_patterns: int = 20, max_required: int = 5
) -> LabelPolicy:
    """Generate valid policies that accept at least one custom label.

    Required labels are drawn in any case (the policy lower-cases them); there are 0 to
    ``max_patterns`` optional patterns, and at least one required label when there are none.
    """
    patterns = draw(st.lists(_PATTERNS, max_size=max_patterns))
    required = draw(
        st.lists(
            _REQUIRED,
            min_size=0 if patterns else 1,
            max_size=max(max_required, 0 if patterns else 1),
        )
    )
    return LabelPolicy(required_labels=required, optional_label_patterns=patterns)


@functools.lru_cache(maxsize=1024)
def _from_pattern(pattern: str) -> st.SearchStrategy[str] | None:
    """Return strings matching a pattern in Python's ``re``, or ``None`` if ``re`` refuses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            re.compile(pattern)
        except (re.error, Warning):
            return None
    return st.from_regex(pattern, fullmatch=True, alphabet=LABEL_ALPHABET)


@st.composite
def _matching_label(
    draw: st.DrawFn, candidates: st.SearchStrategy[str], policy: LabelPolicy
) -> str:
    for _ in range(3):
        label = draw(candidates)
        # RE2 has the last word, whatever Python's re thought of the pattern.
        if (
            is_valid_label(label)
            and not is_system_label(label)
            and policy.allows_optional(label.lower())
        ):
            return _apply_case(label, draw(_CASE_MASKS))
    return reject()


def _labels_matching(policy: LabelPolicy) -> st.SearchStrategy[str] | None:
    """Labels accepted by one of the policy's patterns, or ``None`` when none is usable."""
    usable = [
        strategy
        for strategy in map(_from_pattern, policy.optional_label_patterns)
        if strategy is not None
    ]
    return _matching_label(st.one_of(usable), policy) if usable else None


def labels_allowed_by(policy: LabelPolicy, *, max_size: int = 10) -> st.SearchStrategy[list[str]]:
    """Generate label lists the policy accepts.

    Each list holds up to ``max_size`` labels matching the optional patterns, plus any of the
    required and system labels, in any order and any case, possibly repeated. Together with the
    required labels there is always at least one custom label and never more than 100.
    """
    matching = _labels_matching(policy)
    required = policy.required_labels
    if matching is None and not required:
        raise InvalidArgument(f"{policy!r} accepts no label list: it has no usable pattern.")
    room = max(min(max_size, MAX_CUSTOM_LABELS - len(required)), 0)
    custom = (
        st.lists(matching, min_size=0 if required else 1, max_size=room)
        if matching is not None
        else st.just([])
    )
    extras = [_SYSTEM_LABELS, *([_cased(st.sampled_from(required))] if required else [])]
    return _shuffled(custom, st.lists(st.one_of(extras), max_size=max_size))


@st.composite
def _shuffled(
    draw: st.DrawFn, first: st.SearchStrategy[list[str]], second: st.SearchStrategy[list[str]]
) -> list[str]:
    return draw(st.permutations(draw(first) + draw(second)))


@st.composite
def _refused_label(draw: st.DrawFn, policy: LabelPolicy) -> str:
    candidate = draw(_REQUIRED)
    label = candidate.lower()
    if label in policy.required_labels or policy.allows_optional(label):
        return draw(_INVALID_LABELS)
    return candidate


def labels_refused_by(policy: LabelPolicy, *, max_size: int = 10) -> st.SearchStrategy[list[str]]:
    """Generate label lists the policy refuses.

    Each list holds at least one refused label (well-formed but matching no pattern, or
    malformed) among up to ``max_size`` other labels of any kind, in any order.
    """
    refused = st.lists(st.one_of(_refused_label(policy), _INVALID_LABELS), min_size=1, max_size=3)
    required = policy.required_labels
    others = [_labels(30), _SYSTEM_LABELS, *([st.sampled_from(required)] if required else [])]
    return _shuffled(refused, st.lists(st.one_of(others), max_size=max_size))
