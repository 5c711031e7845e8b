"""The policy dry run: what a team policy says about a list of labels, with no side effect.

The team is chosen exactly as provisioning chooses it (named, or the caller's only active team),
and the labels are judged by the same :func:`gharts_core.policy.evaluate_labels`. Nothing is
reserved and nothing is sent to GitHub (only an audit row is written). Refused labels are the
answer, not an error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import attrs

from gharts_core.errors import ValidationFailed
from gharts_core.model import AuditAction, AuditOutcome, Principal, Team
from gharts_core.policy import LabelDecision, evaluate_labels
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Store
from gharts_core.services._events import audit_event
from gharts_core.services._runner_requests import choose_team, team_field_errors

__all__ = ["PolicyCheckResult", "PolicyCheckService"]


@attrs.frozen(kw_only=True)
class PolicyCheckResult:
    """The team the labels were checked against and the policy's decision."""

    team: Team
    decision: LabelDecision

    @property
    def allowed(self) -> bool:
        """Whether provisioning with these labels would pass the label policy."""
        return self.decision.allowed


class PolicyCheckService:
    """Evaluate labels against a team policy without provisioning anything."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def check(
        self,
        principal: Principal,
        labels: Iterable[str],
        *,
        team_name: str | None = None,
        team_id: uuid.UUID | None = None,
    ) -> PolicyCheckResult:
        """Return the decision of the selected team's policy on ``labels``.

        Raise the team-selection errors provisioning raises (``TeamNotFound``,
        ``NotTeamMember``, ``TeamRequired``, ``TeamInactive``); never raise for refused labels.
        """
        if errors := team_field_errors(team_name, team_id):
            raise ValidationFailed(errors)
        requested = tuple(labels)
        async with self._store.unit_of_work() as uow:
            team = await choose_team(uow, principal, team_name=team_name, team_id=team_id)
            decision = evaluate_labels(team.policy, requested)
            await uow.audit.append(
                audit_event(
                    self._clock,
                    principal.actor,
                    AuditAction.POLICY_CHECK,
                    target_type="team",
                    target_id=team.id,
                    outcome=AuditOutcome.SUCCESS,
                    team=team,
                    details={
                        "labels": list(requested),
                        "allowed": decision.allowed,
                        "violations": [v.as_dict() for v in decision.violations],
                    },
                )
            )
        return PolicyCheckResult(team=team, decision=decision)
