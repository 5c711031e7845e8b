"""Properties of the label policy engine, generated with the public strategies."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from gharts_core.policy import (
    MAX_CUSTOM_LABELS,
    LabelPolicy,
    evaluate_labels,
    is_system_label,
    is_valid_label,
)
from gharts_core.testing.strategies import (
    LABEL_ALPHABET,
    any_case,
    invalid_labels,
    label_policies,
    labels,
    labels_allowed_by,
    labels_refused_by,
    system_labels,
)


def any_labels(policy: LabelPolicy) -> st.SearchStrategy[list[str]]:
    """Label lists the policy accepts or refuses, and plain unicode junk."""
    return st.one_of(
        labels_allowed_by(policy), labels_refused_by(policy), st.lists(st.text(max_size=30))
    )


@given(st.data())
def test_labels_allowed_by_a_policy_are_accepted(data: st.DataObject) -> None:
    policy = data.draw(label_policies())

    decision = evaluate_labels(policy, data.draw(labels_allowed_by(policy)))

    expected = (True, ())
    assert expected == (decision.allowed, decision.violations)


@given(st.data())
def test_labels_refused_by_a_policy_are_refused(data: st.DataObject) -> None:
    policy = data.draw(label_policies())

    decision = evaluate_labels(policy, data.draw(labels_refused_by(policy)))

    assert not decision.allowed
    assert decision.violations


@given(st.data())
def test_required_labels_are_always_in_the_result(data: st.DataObject) -> None:
    policy = data.draw(label_policies(max_patterns=8))

    decision = evaluate_labels(policy, data.draw(any_labels(policy)))

    assert set(policy.required_labels) <= set(decision.labels)


@given(st.data())
def test_the_decision_does_not_depend_on_label_order(data: st.DataObject) -> None:
    policy = data.draw(label_policies(max_patterns=8))
    requested = data.draw(any_labels(policy))

    reordered = data.draw(st.permutations(requested))

    assert evaluate_labels(policy, requested) == evaluate_labels(policy, reordered)


@given(st.data())
def test_the_decision_does_not_depend_on_label_case(data: st.DataObject) -> None:
    policy = data.draw(label_policies(max_patterns=8))
    requested = data.draw(any_labels(policy))

    recased = [data.draw(any_case(label)) for label in requested]

    assert evaluate_labels(policy, requested) == evaluate_labels(policy, recased)


@given(label_policies(max_patterns=5), st.lists(st.text()))
def test_evaluation_never_raises_and_keeps_only_valid_lower_case_custom_labels(
    policy: LabelPolicy, requested: list[str]
) -> None:
    decision = evaluate_labels(policy, requested)

    assert all(is_valid_label(label) for label in decision.labels)
    assert all(label == label.lower() for label in decision.labels)
    assert not any(is_system_label(label) for label in decision.labels)
    assert decision.allowed == (not decision.violations)


@given(st.data())
def test_accepted_labels_come_from_the_request_or_the_required_labels(
    data: st.DataObject,
) -> None:
    policy = data.draw(label_policies(max_patterns=8))
    requested = data.draw(any_labels(policy))

    decision = evaluate_labels(policy, requested)

    sources = set(policy.required_labels) | {label.lower() for label in requested}
    assert set(decision.labels) <= sources
    assert not decision.allowed or len(decision.labels) <= MAX_CUSTOM_LABELS


@given(labels())
def test_generated_labels_are_valid_lower_case_and_custom(label: str) -> None:
    expected = (True, label.lower(), False)
    assert expected == (is_valid_label(label), label, is_system_label(label))


@given(invalid_labels())
def test_generated_invalid_labels_are_invalid(label: str) -> None:
    assert not is_valid_label(label)


@given(system_labels())
def test_generated_system_labels_are_system_labels(label: str) -> None:
    assert is_system_label(label)


@given(st.text(LABEL_ALPHABET + " *é٣\n", max_size=110) | st.text(max_size=5))
def test_label_validity_is_exactly_the_documented_format(label: str) -> None:
    documented = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}", label, re.ASCII)

    assert (documented is not None) == is_valid_label(label)


# ---------------------------------------------------------------- the strategies on your own policy

OWN_POLICY = LabelPolicy(
    required_labels=["team-a"],
    # Python's re cannot read \pL nor [[:alpha:]] as RE2 does; no valid label matches -.*
    optional_label_patterns=[r"\pL+-gpu", "[[:alpha:]]+-cpu", "-.*", "pool-[0-9]{1,3}"],
)


@given(labels_allowed_by(OWN_POLICY))
def test_patterns_python_cannot_read_are_skipped_when_generating_allowed_labels(
    requested: list[str],
) -> None:
    decision = evaluate_labels(OWN_POLICY, requested)

    assert decision.allowed
    assert all(label == "team-a" or label.startswith("pool-") for label in decision.labels)


@given(labels_refused_by(OWN_POLICY))
def test_refused_labels_are_refused_by_a_hand_written_policy(requested: list[str]) -> None:
    assert not evaluate_labels(OWN_POLICY, requested).allowed


def test_a_policy_without_usable_patterns_or_required_labels_has_no_allowed_labels() -> None:
    with pytest.raises(InvalidArgument, match="accepts no label list"):
        labels_allowed_by(LabelPolicy(optional_label_patterns=[r"\pL+"]))
