"""Where runners live on GitHub: an organisation, a repository or an enterprise."""

from __future__ import annotations

import enum
import re
from urllib.parse import urlsplit

import attrs

_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,99})$")


class ScopeKind(enum.StrEnum):
    """The three levels at which GitHub registers self-hosted runners."""

    ORG = "org"
    REPO = "repo"
    ENTERPRISE = "enterprise"


@attrs.frozen
class GitHubScope:
    """A runner scope such as ``org:acme``, ``repo:acme/api`` or ``enterprise:acme-corp``."""

    kind: ScopeKind
    name: str

    @classmethod
    def parse(cls, text: str) -> GitHubScope:
        """Read ``org:<org>``, ``repo:<owner>/<repo>`` or ``enterprise:<slug>``."""
        kind_text, _, name = text.partition(":")
        try:
            kind = ScopeKind(kind_text)
        except ValueError:
            raise ValueError(
                f"GitHub scope {text!r} must start with 'org:', 'repo:' or 'enterprise:'"
            ) from None
        if not _valid_name(kind, name):
            raise ValueError(f"GitHub scope {text!r} does not name a valid {kind.value}")
        return cls(kind, name)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @property
    def runners_path(self) -> str:
        """The REST path of the scope's self-hosted runners collection."""
        return f"{self._owner_path}/actions/runners"

    def registration_url(self, web_url: str) -> str:
        """Return the URL ``config.sh --url`` expects, on the given GitHub web host."""
        base = web_url.rstrip("/")
        if self.kind is ScopeKind.ENTERPRISE:
            return f"{base}/enterprises/{self.name}"
        return f"{base}/{self.name}"

    @property
    def _owner_path(self) -> str:
        prefix = {
            ScopeKind.ORG: "orgs",
            ScopeKind.REPO: "repos",
            ScopeKind.ENTERPRISE: "enterprises",
        }
        return f"/{prefix[self.kind]}/{self.name}"


def _valid_name(kind: ScopeKind, name: str) -> bool:
    if kind is ScopeKind.REPO:
        owner, slash, repo = name.partition("/")
        return bool(slash and _ORG.fullmatch(owner) and _REPO.fullmatch(repo)) and repo not in {
            ".",
            "..",
        }
    pattern = _ORG if kind is ScopeKind.ORG else _SLUG
    return bool(pattern.fullmatch(name))


def web_url_for(api_url: str) -> str:
    """Guess the web host from the REST root: github.com, or GHES's ``https://host/api/v3``."""
    parts = urlsplit(api_url.rstrip("/"))
    if parts.hostname == "api.github.com":
        return "https://github.com"
    path = parts.path.removesuffix("/api/v3")
    return f"{parts.scheme}://{parts.netloc}{path}"
