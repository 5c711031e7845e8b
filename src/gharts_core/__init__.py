"""gharts_core: the pure domain of gharts, and the label policy engine other services embed.

No I/O and no framework: the standard library, attrs, google-re2 and structlog only. The policy
engine is below; the rest lives in its modules (``model``, ``errors``, ``authz``, ``quota``,
``drift``, the ``ports`` the adapters implement, the ``services`` written against them) and the
fakes and Hypothesis strategies for anyone's tests in ``gharts_core.testing``.
"""

from gharts_core.errors import ErrorCode, GhartsError, Violation, ViolationReason
from gharts_core.policy import LabelDecision, LabelPolicy, evaluate_labels

__all__ = [
    "ErrorCode",
    "GhartsError",
    "LabelDecision",
    "LabelPolicy",
    "Violation",
    "ViolationReason",
    "evaluate_labels",
]
