"""Hypothesis strategies for teams, users, principals and runners (re-exported by ``strategies``).

Strategies are built once at import and reused: Hypothesis validates each strategy object once,
so building them per draw would cost more than the drawing itself.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from gharts_core.model import (
    Actor,
    Capabilities,
    Deactivation,
    LabelType,
    ObservedLabel,
    ObservedRunner,
    Principal,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    Team,
    User,
)
from gharts_core.testing._label_strategies import label_policies, labels

_LOWER_DIGITS = string.ascii_lowercase + string.digits
_ISSUER = "https://issuer.example.com/"


def _join(*parts: str) -> str:
    return "".join(parts)


def _later(start: datetime, seconds: int) -> tuple[datetime, datetime]:
    return start, start + timedelta(seconds=seconds)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Generate timezone-aware UTC datetimes between 2020 and 2040."""
    return _DATETIMES


def team_names() -> st.SearchStrategy[str]:
    """Generate valid team names: lower-case letters, digits and dashes, 2-50 characters."""
    return _TEAM_NAMES


def runner_names() -> st.SearchStrategy[str]:
    """Generate runner names GitHub accepts: letters, digits, ``.``, ``_`` and ``-``."""
    return _RUNNER_NAMES


_DATETIMES = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - Hypothesis takes naive bounds
    max_value=datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_TEAM_NAMES = st.builds(
    _join,
    st.sampled_from(_LOWER_DIGITS),
    st.text(_LOWER_DIGITS + "-", max_size=48),
    st.sampled_from(_LOWER_DIGITS),
)
_RUNNER_NAMES = st.builds(
    _join,
    st.sampled_from(_LOWER_DIGITS),
    st.text(string.ascii_letters + string.digits + "._-", max_size=63),
)
_EMAILS = st.builds(
    _join,
    st.text(_LOWER_DIGITS + "._", min_size=1, max_size=20),
    st.just("@"),
    st.sampled_from(["example.com", "example.org", "corp.example.net"]),
)
_TIMESTAMPS = st.builds(_later, _DATETIMES, st.integers(0, 10**8))
_DEACTIVATIONS = st.builds(Deactivation, reason=st.text(max_size=40), at=_DATETIMES, by=_EMAILS)
_CAPABILITIES = st.builds(Capabilities, st.booleans(), st.booleans())
_IDS = st.uuids(version=4)
_GROUPS = st.lists(st.integers(1, 10**6), min_size=1, max_size=4, unique=True)
_CUSTOM_LABELS = labels(max_size=30)
_TEAM_POLICIES = label_policies(max_patterns=5)


@st.composite
def teams(draw: st.DrawFn, *, active: bool | None = None) -> Team:
    """Generate teams with a valid policy, runner groups and quota; ``active`` pins the state."""
    groups = draw(_GROUPS)
    is_active = draw(st.booleans()) if active is None else active
    created, updated = draw(_TIMESTAMPS)
    return Team(
        id=draw(_IDS),
        name=draw(_TEAM_NAMES),
        description=draw(st.text(max_size=60)),
        policy=draw(_TEAM_POLICIES),
        allowed_runner_group_ids=groups,
        default_runner_group_id=draw(st.sampled_from(groups)),
        max_runners=draw(st.none() | st.integers(0, 100)),
        created_at=created,
        updated_at=updated,
        deactivation=None if is_active else draw(_DEACTIVATIONS),
    )


@st.composite
def users(draw: st.DrawFn, *, active: bool | None = None, admin: bool | None = None) -> User:
    """Generate users; ``active`` and ``admin`` pin those flags, otherwise both vary."""
    is_active = draw(st.booleans()) if active is None else active
    bound = draw(st.booleans())
    created, updated = draw(_TIMESTAMPS)
    return User(
        id=draw(_IDS),
        email=draw(_EMAILS),
        display_name=draw(st.text(max_size=40)),
        is_admin=draw(st.booleans()) if admin is None else admin,
        capabilities=draw(_CAPABILITIES),
        created_at=created,
        updated_at=updated,
        oidc_issuer=_ISSUER if bound else None,
        oidc_subject=draw(st.text(min_size=1, max_size=30)) if bound else None,
        deactivation=None if is_active else draw(_DEACTIVATIONS),
    )


@st.composite
def principals(draw: st.DrawFn, *, kind: PrincipalKind | None = None) -> Principal:
    """Generate principals: users (admins or not, 0-3 teams), machines, the system, operators."""
    chosen = draw(st.sampled_from(PrincipalKind)) if kind is None else kind
    if chosen is PrincipalKind.SYSTEM:
        return Principal.system()
    if chosen is PrincipalKind.OPERATOR:
        return Principal.operator(draw(_EMAILS))
    machine = chosen is PrincipalKind.MACHINE
    subject = draw(st.text(string.ascii_letters + string.digits + ":-", min_size=1, max_size=40))
    return Principal(
        kind=chosen,
        id=draw(_IDS),
        name=f"client:{subject}" if machine else draw(_EMAILS),
        is_admin=False if machine else draw(st.booleans()),
        capabilities=draw(_CAPABILITIES),
        team_ids=draw(st.frozensets(_IDS, min_size=int(machine), max_size=1 if machine else 3)),
        issuer=_ISSUER,
        subject=subject,
    )


@st.composite
def runner_records(
    draw: st.DrawFn, *, team: Team | None = None, status: RunnerStatus | None = None
) -> RunnerRecord:
    """Generate runner records consistent with their status (GitHub id, expiry, deletion)."""
    chosen = draw(st.sampled_from(RunnerStatus)) if status is None else status
    created, updated = draw(_TIMESTAMPS)
    deleted = chosen is RunnerStatus.DELETED
    return RunnerRecord(
        id=draw(_IDS),
        name=draw(_RUNNER_NAMES),
        team_id=team.id if team else draw(_IDS),
        team_name=team.name if team else draw(_TEAM_NAMES),
        labels=draw(st.lists(_CUSTOM_LABELS, min_size=1, max_size=5)),
        runner_group_id=team.default_runner_group_id if team else draw(st.integers(1, 10**6)),
        status=chosen,
        method=draw(st.sampled_from(ProvisionMethod)),
        created_by=Actor(kind=PrincipalKind.USER, id=draw(_IDS), name=draw(_EMAILS)),
        created_at=created,
        updated_at=updated,
        github_runner_id=None
        if chosen is RunnerStatus.PROVISIONING
        else draw(st.integers(1, 2**40)),
        expires_at=created + timedelta(hours=1) if chosen is RunnerStatus.PENDING else None,
        deleted_at=updated if deleted else None,
        deleted_reason=draw(st.sampled_from(["deprovisioned", "vanished", "drift"]))
        if deleted
        else None,
    )


@st.composite
def observed_runners(draw: st.DrawFn) -> ObservedRunner:
    """Generate runners as GitHub reports them: read-only system labels, then custom ones."""
    os_name = draw(st.sampled_from(["Linux", "Windows", "macOS"]))
    read_only = ["self-hosted", os_name.lower(), draw(st.sampled_from(["x64", "arm64"]))]
    custom = draw(st.lists(_CUSTOM_LABELS, max_size=5, unique=True))
    online = draw(st.booleans())
    return ObservedRunner(
        id=draw(st.integers(1, 2**40)),
        name=draw(_RUNNER_NAMES),
        os=os_name,
        status="online" if online else "offline",
        busy=online and draw(st.booleans()),
        labels=[ObservedLabel(name, LabelType.READ_ONLY) for name in read_only]
        + [ObservedLabel(name, LabelType.CUSTOM) for name in custom],
        runner_group_id=draw(st.none() | st.integers(1, 10**6)),
        ephemeral=draw(st.none() | st.booleans()),
    )
