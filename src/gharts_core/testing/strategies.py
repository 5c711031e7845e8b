r"""Hypothesis strategies for gharts' domain, for property-testing label policies and more.

Install the ``testing`` extra (``pip install 'gharts[testing]'``) to get Hypothesis. The three
policy strategies let another project check its own policies::

    from hypothesis import given, strategies as st
    from gharts_core.policy import evaluate_labels
    from gharts_core.testing.strategies import label_policies, labels_allowed_by

    @given(st.data())
    def test_allowed_labels_pass(data):
        policy = data.draw(label_policies())
        assert evaluate_labels(policy, data.draw(labels_allowed_by(policy))).allowed

Generated patterns come from a small grammar (literals, ``[a-z0-9]+``, ``\d{1,3}``, ``(a|b)``,
``.*``) that means the same in RE2 and in Python's ``re``, which Hypothesis uses to generate
matching strings. For a policy of your own, :func:`labels_allowed_by` skips the patterns Python
cannot compile; patterns that no valid label can match simply contribute nothing.
"""

from gharts_core.testing._domain_strategies import (
    aware_datetimes,
    observed_runners,
    principals,
    runner_names,
    runner_records,
    team_names,
    teams,
    users,
)
from gharts_core.testing._label_strategies import (
    LABEL_ALPHABET,
    any_case,
    invalid_labels,
    label_policies,
    labels,
    labels_allowed_by,
    labels_refused_by,
    system_labels,
)

__all__ = [
    "LABEL_ALPHABET",
    "any_case",
    "aware_datetimes",
    "invalid_labels",
    "label_policies",
    "labels",
    "labels_allowed_by",
    "labels_refused_by",
    "observed_runners",
    "principals",
    "runner_names",
    "runner_records",
    "system_labels",
    "team_names",
    "teams",
    "users",
]
