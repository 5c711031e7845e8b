"""The provisioning commands and their results.

Commands validate their own fields (raising ``ValidationFailed`` with one sentence per field);
results keep the one-time secrets out of ``repr`` so they never reach a log line by accident.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Iterable
from datetime import datetime

import attrs

from gharts_core.errors import ValidationFailed
from gharts_core.model import RunnerRecord, Team
from gharts_core.services._runner_requests import (
    generated_name,
    name_field_errors,
    team_field_errors,
    work_folder_problem,
)


def _labels(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class RunnerRequest:
    """Fields both provisioning flows share; exactly one of name and prefix, at most one team."""

    labels: tuple[str, ...] = attrs.field(default=(), converter=_labels)
    runner_name: str | None = None
    runner_name_prefix: str | None = None
    team_name: str | None = None
    team_id: uuid.UUID | None = None
    runner_group_id: int | None = None

    def __attrs_post_init__(self) -> None:
        errors = self._field_errors()
        if errors:
            raise ValidationFailed(errors)

    def _field_errors(self) -> dict[str, str]:
        return {
            **name_field_errors(self.runner_name, self.runner_name_prefix),
            **team_field_errors(self.team_name, self.team_id),
        }

    def choose_name(self) -> str:
        """Return the runner name in lower case: the one given, or the prefix with a suffix.

        GitHub compares runner names case-insensitively, so names are kept in lower case, like
        labels: the stores' unique-live-name rule then means what GitHub means.
        """
        if self.runner_name is not None:
            return self.runner_name.lower()
        return generated_name(self.runner_name_prefix or "").lower()

    def requested_name(self) -> str:
        """Return the name or prefix as the caller sent it (for audit rows)."""
        return self.runner_name or f"{self.runner_name_prefix}*"


@attrs.frozen(kw_only=True)
class ProvisionJitRunner(RunnerRequest):
    """Provision a just-in-time runner; ``work_folder`` is relative, without ``..``."""

    work_folder: str = "_work"

    def _field_errors(self) -> dict[str, str]:
        errors = super()._field_errors()
        if problem := work_folder_problem(self.work_folder):
            errors["work_folder"] = problem
        return errors


@attrs.frozen(kw_only=True)
class ProvisionRegistrationToken(RunnerRequest):
    """Issue a registration token for one ephemeral runner (the legacy ``config.sh`` flow)."""


@attrs.frozen(kw_only=True)
class JitProvisioned:
    """A provisioned JIT runner and its one-time configuration (never stored)."""

    runner: RunnerRecord
    team: Team
    encoded_jit_config: str = attrs.field(repr=False)
    expires_at: datetime

    @property
    def run_command(self) -> str:
        """The command that starts the runner with its configuration."""
        return f"./run.sh --jitconfig {shlex.quote(self.encoded_jit_config)}"


@attrs.frozen(kw_only=True)
class RegistrationTokenIssued:
    """A registration token for one runner, with the ``config.sh`` command that uses it."""

    runner: RunnerRecord
    team: Team
    token: str = attrs.field(repr=False)
    expires_at: datetime
    github_url: str

    @property
    def runner_name(self) -> str:
        """The name the runner must be configured with."""
        return self.runner.name

    @property
    def labels(self) -> tuple[str, ...]:
        """The custom labels the runner must be configured with."""
        return self.runner.labels

    @property
    def config_command(self) -> str:
        """The ``config.sh`` command line, every value quoted for a POSIX shell."""
        parts = [
            "./config.sh",
            *("--url", self.github_url),
            *("--token", self.token),
            *("--name", self.runner.name),
            *("--labels", ",".join(self.runner.labels)),
            "--ephemeral",
            "--unattended",
        ]
        return shlex.join(parts)
