"""The label policy engine, rule by rule."""

from __future__ import annotations

import pytest

from gharts_core.errors import ErrorCode, InvalidLabels, InvalidPolicy, LabelPolicyViolation
from gharts_core.policy import (
    MAX_PATTERNS,
    LabelDecision,
    LabelPolicy,
    Violation,
    ViolationReason,
    evaluate_labels,
    is_system_label,
    is_valid_label,
    normalize_label,
)

TEAM_POLICY = LabelPolicy(
    required_labels=["team-a"], optional_label_patterns=["gpu", "gpu-[a-z0-9]+", r"os-\d{1,3}"]
)
INVALID = ViolationReason.INVALID_FORMAT
NOT_ALLOWED = ViolationReason.NOT_ALLOWED


def reasons(decision: LabelDecision) -> list[tuple[str, ViolationReason]]:
    return [(v.label, v.reason) for v in decision.violations]


def problems(error: InvalidPolicy) -> list[tuple[str, str | None, str]]:
    return [(p.field, p.value, p.reason) for p in error.problems]


@pytest.mark.parametrize("label", ["a", "7", "A" * 100, "gpu-a100", "Team_A", "pool.x:y/z", "z-"])
def test_valid_labels_have_1_to_100_allowed_characters_and_start_alphanumeric(label: str) -> None:
    assert is_valid_label(label)


@pytest.mark.parametrize(
    "label",
    ["", "a" * 101, "-gpu", ".gpu", "_gpu", ":gpu", "/gpu", "gpu a", "gpu*", "gpu\n", "ünï", "٣"],
)
def test_labels_outside_the_format_are_invalid(label: str) -> None:
    assert not is_valid_label(label)


def test_normalized_labels_are_lower_case() -> None:
    assert normalize_label("GPU-A100") == "gpu-a100"


@pytest.mark.parametrize("label", ["self-hosted", "Self-Hosted", "LINUX", "x64", "ARM64", "macOS"])
def test_system_labels_are_recognised_in_any_case(label: str) -> None:
    assert is_system_label(label)


@pytest.mark.parametrize("label", ["self-hosted-prod", "linux2", "x6", "arm-64", "my-linux"])
def test_system_labels_are_exact_names_not_prefixes(label: str) -> None:
    assert not is_system_label(label)


def test_allowed_labels_are_lower_cased_sorted_and_merged_with_required_ones() -> None:
    expected = LabelDecision(allowed=True, labels=("gpu-a100", "os-22", "team-a"), violations=())

    assert expected == evaluate_labels(TEAM_POLICY, ["OS-22", "GPU-A100"])


def test_required_labels_are_added_when_not_requested() -> None:
    expected = ("gpu", "team-a")

    assert expected == evaluate_labels(TEAM_POLICY, ["gpu"]).labels


def test_required_labels_may_be_requested_in_any_case() -> None:
    expected = ("team-a",)

    assert expected == evaluate_labels(TEAM_POLICY, ["TEAM-A"]).labels


def test_required_labels_alone_satisfy_a_request_without_labels() -> None:
    assert evaluate_labels(TEAM_POLICY, []).allowed


def test_system_labels_are_accepted_but_not_kept() -> None:
    decision = evaluate_labels(TEAM_POLICY, ["self-hosted", "Linux", "X64", "gpu"])

    expected = (True, ("gpu", "team-a"))
    assert expected == (decision.allowed, decision.labels)


def test_a_label_that_extends_a_system_label_is_judged_by_the_policy() -> None:
    expected = [("self-hosted-prod", NOT_ALLOWED)]

    assert expected == reasons(evaluate_labels(TEAM_POLICY, ["self-hosted-prod"]))


def test_duplicates_collapse_whatever_their_case() -> None:
    expected = ("gpu", "team-a")

    assert expected == evaluate_labels(TEAM_POLICY, ["gpu", "GPU", "Gpu", "Team-A"]).labels


def test_patterns_must_match_the_whole_label_not_a_prefix() -> None:
    policy = LabelPolicy(optional_label_patterns=["gpu"])

    expected = [("gpu-x", NOT_ALLOWED)]
    assert expected == reasons(evaluate_labels(policy, ["gpu-x"]))


def test_patterns_match_case_insensitively_whatever_case_the_admin_wrote() -> None:
    policy = LabelPolicy(optional_label_patterns=["GPU-[A-Z]+"])

    expected = ("gpu-big",)
    assert expected == evaluate_labels(policy, ["Gpu-Big"]).labels


def test_a_refused_label_is_reported_once_in_lower_case() -> None:
    decision = evaluate_labels(TEAM_POLICY, ["CPU", "cpu", "gpu"])

    expected = (False, [("cpu", NOT_ALLOWED)])
    assert expected == (decision.allowed, reasons(decision))


def test_a_malformed_label_is_reported_once_in_lower_case() -> None:
    expected = [("gpu a100", INVALID)]

    assert expected == reasons(evaluate_labels(TEAM_POLICY, ["GPU A100", "gpu a100", "gpu"]))


def test_a_label_that_only_looks_valid_once_lower_cased_stays_malformed() -> None:
    kelvin = "\u212a"  # KELVIN SIGN: lower-cases to the ASCII letter "k"
    policy = LabelPolicy(optional_label_patterns=["k"])

    expected = ((False, ("k",)), [("k", INVALID)])
    for requested in ([kelvin, "k"], ["k", kelvin]):
        decision = evaluate_labels(policy, requested)
        assert expected == ((decision.allowed, decision.labels), reasons(decision))


def test_a_very_long_malformed_label_is_truncated_in_the_report() -> None:
    expected = [("a" * 101, INVALID)]

    assert expected == reasons(evaluate_labels(TEAM_POLICY, ["a" * 5000]))


def test_a_bare_string_counts_as_one_label() -> None:
    expected = ("gpu", "team-a")

    assert expected == evaluate_labels(TEAM_POLICY, "gpu").labels


def test_violations_are_ordered_by_reason_then_label() -> None:
    decision = evaluate_labels(TEAM_POLICY, ["zz", "-bad", "aa", "!bad"])

    expected = [("!bad", INVALID), ("-bad", INVALID), ("aa", NOT_ALLOWED), ("zz", NOT_ALLOWED)]
    assert expected == reasons(decision)


def test_more_than_100_custom_labels_are_too_many() -> None:
    policy = LabelPolicy(optional_label_patterns=["l[0-9]+"])

    decision = evaluate_labels(policy, [f"l{i}" for i in range(101)])

    expected = ([("", ViolationReason.TOO_MANY)], 101)
    assert expected == (reasons(decision), len(decision.labels))


def test_exactly_100_custom_labels_including_required_ones_are_allowed() -> None:
    policy = LabelPolicy(required_labels=["team-a"], optional_label_patterns=["l[0-9]+"])

    assert evaluate_labels(policy, [f"l{i}" for i in range(99)]).allowed


def test_system_labels_only_leave_no_custom_label() -> None:
    policy = LabelPolicy(optional_label_patterns=[".*"])

    expected = [("", ViolationReason.NO_CUSTOM_LABELS)]
    assert expected == reasons(evaluate_labels(policy, ["self-hosted"]))


def test_a_policy_without_patterns_refuses_every_optional_label() -> None:
    policy = LabelPolicy(required_labels=["team-a"])

    expected = [("gpu", NOT_ALLOWED)]
    assert expected == reasons(evaluate_labels(policy, ["gpu"]))


def test_raise_if_refused_is_silent_for_an_allowed_decision() -> None:
    evaluate_labels(TEAM_POLICY, ["gpu"]).raise_if_refused()


def test_raise_if_refused_raises_invalid_labels_when_any_label_is_malformed() -> None:
    decision = evaluate_labels(TEAM_POLICY, ["cpu", "bad label"])

    with pytest.raises(InvalidLabels) as raised:
        decision.raise_if_refused()

    expected = (ErrorCode.INVALID_LABELS, [("bad label", INVALID)])
    assert expected == (raised.value.code, [(v.label, v.reason) for v in raised.value.violations])


@pytest.mark.parametrize(
    ("labels", "reason"),
    [(["self-hosted"], "no_custom_labels"), ([f"l{i}" for i in range(101)], "too_many")],
)
def test_raise_if_refused_treats_too_many_or_no_labels_as_invalid_labels(
    labels: list[str], reason: str
) -> None:
    policy = LabelPolicy(optional_label_patterns=["l[0-9]+"])

    with pytest.raises(InvalidLabels) as raised:
        evaluate_labels(policy, labels).raise_if_refused()

    assert [reason] == [v.reason.value for v in raised.value.violations]


def test_raise_if_refused_raises_label_policy_violation_for_refused_labels() -> None:
    with pytest.raises(LabelPolicyViolation) as raised:
        evaluate_labels(TEAM_POLICY, ["cpu"]).raise_if_refused()

    message = "Label 'cpu' matches none of the team's allowed patterns."
    expected = {"violations": [{"label": "cpu", "reason": "not_allowed", "message": message}]}
    assert expected == raised.value.extras()


def test_violation_has_a_json_form() -> None:
    violation = Violation(label="x", reason=ViolationReason.TOO_MANY, message="Too many.")

    expected = {"label": "x", "reason": "too_many", "message": "Too many."}
    assert expected == violation.as_dict()


def test_only_not_allowed_is_a_policy_refusal_rather_than_a_format_problem() -> None:
    expected = [NOT_ALLOWED]

    assert expected == [r for r in ViolationReason if not r.is_format_problem]


def test_policy_normalizes_required_labels_and_keeps_patterns_as_written() -> None:
    policy = LabelPolicy(
        required_labels=["Team-B", "team-a", "TEAM-A"], optional_label_patterns=["X"]
    )

    expected = {"required_labels": ["team-a", "team-b"], "optional_label_patterns": ["X"]}
    assert expected == policy.as_dict()


def test_policies_with_the_same_rules_are_equal_and_hash_alike() -> None:
    first, second = LabelPolicy(["A"], ["x+"]), LabelPolicy(["a"], ["x+"])

    assert (first, hash(first)) == (second, hash(second))


@pytest.mark.parametrize("pattern", ["(unclosed", "[z-a]", "a{1001}", r"(?<=x)y", r"(a)\1"])
def test_an_invalid_pattern_is_refused_by_name_with_the_reason(pattern: str) -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(optional_label_patterns=["ok-.*", pattern])

    expected = [("optional_label_patterns", pattern, "invalid_regex")]
    assert expected == problems(raised.value)
    assert repr(pattern) in raised.value.detail
    assert raised.value.code is ErrorCode.INVALID_POLICY


def test_an_empty_pattern_is_refused_with_a_json_explanation() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(optional_label_patterns=[""])

    problem = {
        "field": "optional_label_patterns",
        "value": "",
        "reason": "empty",
        "message": "A pattern is empty.",
    }
    assert {"problems": [problem]} == raised.value.extras()


def test_a_pattern_longer_than_256_characters_is_refused() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(optional_label_patterns=["a" * 256, "a" * 257])

    expected = [("optional_label_patterns", "a" * 40 + "...", "too_long")]
    assert expected == problems(raised.value)
    assert "257 characters" in raised.value.detail


def test_more_than_64_patterns_are_refused() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(optional_label_patterns=[f"p{i}" for i in range(MAX_PATTERNS + 1)])

    expected = [("optional_label_patterns", None, "too_many_patterns")]
    assert expected == problems(raised.value)


def test_64_patterns_are_accepted() -> None:
    policy = LabelPolicy(optional_label_patterns=[f"p{i}" for i in range(MAX_PATTERNS)])

    expected = ("p63",)
    assert expected == evaluate_labels(policy, ["p63"]).labels


def test_every_bad_pattern_and_required_label_is_named_at_once() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(
            required_labels=["ok", "bad label", "Self-Hosted"],
            optional_label_patterns=["(", "fine", ""],
        )

    expected = [
        ("required_labels", "bad label", "invalid_format"),
        ("required_labels", "self-hosted", "system_label"),
        ("optional_label_patterns", "(", "invalid_regex"),
        ("optional_label_patterns", "", "empty"),
    ]
    assert expected == problems(raised.value)


def test_a_required_label_that_only_looks_valid_once_lower_cased_is_refused() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(required_labels=["\u212aube"])

    expected = [("required_labels", "\u212aube", "invalid_format")]
    assert expected == problems(raised.value)


def test_more_than_100_required_labels_are_refused() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        LabelPolicy(required_labels=[f"r{i}" for i in range(101)])

    expected = [("required_labels", None, "too_many")]
    assert expected == problems(raised.value)


def test_a_pathological_pattern_is_evaluated_without_backtracking() -> None:
    policy = LabelPolicy(optional_label_patterns=["(a+)+$", "(x+x+)+y"])

    decision = evaluate_labels(policy, ["a" * 99 + "b", "x" * 100, "a" * 100])

    expected = (("a" * 100,), [("a" * 99 + "b", NOT_ALLOWED), ("x" * 100, NOT_ALLOWED)])
    assert expected == (decision.labels, reasons(decision))


def test_patterns_too_big_to_share_one_set_are_still_each_honoured() -> None:
    # Each pattern fits RE2's memory budget on its own; all 64 together do not fit one RE2 set.
    patterns = [f"[a-z0-9._:/-]{{1,1000}}x{i}" for i in range(MAX_PATTERNS)]
    policy = LabelPolicy(optional_label_patterns=patterns)

    decision = evaluate_labels(policy, ["abc-x7", "abc-x63", "abc-y1"])

    expected = (("abc-x63", "abc-x7"), [("abc-y1", NOT_ALLOWED)])
    assert expected == (decision.labels, reasons(decision))


def test_repeated_evaluations_give_the_same_decision() -> None:
    first = evaluate_labels(TEAM_POLICY, ["gpu-a", "cpu", "bad label"])

    assert [first] * 3 == [
        evaluate_labels(TEAM_POLICY, ["gpu-a", "cpu", "bad label"]) for _ in range(3)
    ]


def test_decisions_stay_right_after_the_engine_forgets_what_it_remembered() -> None:
    policy = LabelPolicy(optional_label_patterns=["l[0-9]+"])
    batches = [[f"l{i}", f"L{i}", f"m{i}"] for i in range(6000)]

    decisions = [evaluate_labels(policy, batch) for batch in batches]

    assert all(d.labels == (f"l{i}",) for i, d in enumerate(decisions))
    assert all(reasons(d) == [(f"m{i}", NOT_ALLOWED)] for i, d in enumerate(decisions))
    assert decisions[0] == evaluate_labels(policy, batches[0])
