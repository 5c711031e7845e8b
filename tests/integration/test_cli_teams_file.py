"""The teams file format: what ``export`` writes, ``apply`` reads back unchanged."""

from __future__ import annotations

import string

import attrs
from hypothesis import given
from hypothesis import strategies as st

from gharts_http.cli.teams_file import DeclaredClient, DeclaredTeam, TeamsFile, parse_teams_file
from gharts_http.cli.teams_file_writer import dump_teams_file

_NAMES = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_LABELS = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True).filter(
    lambda label: label not in {"self-hosted", "linux", "windows", "macos", "x64", "arm", "arm64"}
)
_PATTERNS = st.sampled_from(["gpu-.*", "size-(s|m|l)", r"v\d+", "[a-z]+-\\w+", "a.b"])
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)
_EMAILS = st.builds(
    "{}@{}.example".format,
    st.text(string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=10),
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
)
_CLIENTS = st.builds(
    DeclaredClient,
    issuer=st.sampled_from(["https://token.actions.githubusercontent.com", "https://k8s.local"]),
    subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool),
    description=_TEXT,
    can_use_jit=st.booleans(),
    can_use_registration_token=st.booleans(),
)


@st.composite
def teams(draw: st.DrawFn, name: str) -> DeclaredTeam:
    """A team as ``parse_teams_file`` returns it: normalised, groups once, default among them."""
    groups = tuple(draw(st.lists(st.integers(1, 50), min_size=1, max_size=3, unique=True)))
    return DeclaredTeam(
        name=name,
        description=draw(_TEXT),
        required_labels=tuple(sorted(set(draw(st.lists(_LABELS, max_size=3))))),
        optional_label_patterns=tuple(draw(st.lists(_PATTERNS, max_size=3, unique=True))),
        allowed_runner_group_ids=groups,
        default_runner_group_id=draw(st.sampled_from(groups)),
        max_runners=draw(st.none() | st.integers(1, 1000)),
        members=draw(st.none() | st.lists(_EMAILS, max_size=3, unique=True).map(sorted).map(tuple)),
        clients=(),
    )


@st.composite
def teams_files(draw: st.DrawFn) -> TeamsFile:
    """Teams files whose clients are unique by (issuer, subject)."""
    names = sorted(draw(st.sets(_NAMES, max_size=4)))
    declared = [draw(teams(name)) for name in names]
    clients = draw(
        st.lists(_CLIENTS, max_size=4, unique_by=lambda client: (client.issuer, client.subject))
    )
    if declared:
        declared[0] = attrs.evolve(declared[0], clients=tuple(clients))
    return TeamsFile(tuple(declared))


@given(teams_files())
def test_export_then_parse_is_the_identity(declared: TeamsFile) -> None:
    """Quotes, backslashes, newlines and non-ASCII text survive the TOML round trip."""
    assert declared == parse_teams_file(dump_teams_file(declared))


def test_the_written_file_starts_with_how_to_use_it() -> None:
    """An exported file says what it is and how to review a change."""
    text = dump_teams_file(TeamsFile(()))

    assert text.startswith("# The teams of gharts")
    assert "gharts apply -f FILE --plan" in text
