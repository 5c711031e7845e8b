"""Trusted issuers: what the ``[[auth.issuers]]`` tables of the configuration say."""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
from joserfc.jwa import JWSAlgModel
from joserfc.jws import JWSRegistry

from gharts_adapters.identity.tls import load_ca_bundle

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Every JWS algorithm an issuer may be configured with; ``none`` and HMAC never are."""

# Looked up directly rather than through JWSRegistry.get_alg, which knows nothing of per-issuer
# allow-lists and warns about EdDSA on every call.
SIGNATURE_ALGORITHMS: dict[str, JWSAlgModel] = {
    name: JWSRegistry.algorithms[name] for name in ASYMMETRIC_ALGORITHMS
}
"""joserfc's implementation of each algorithm in :data:`ASYMMETRIC_ALGORITHMS`."""

DEFAULT_ALGORITHMS = ("RS256", "ES256")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_LEEWAY_SECONDS = 600


class IssuerKind(enum.StrEnum):
    """How tokens of an issuer are classified: all users, all machines, or per token."""

    USER = "user"
    MACHINE = "machine"
    AUTO = "auto"


def check_url(url: str, *, what: str, allow_query: bool = True) -> None:
    """Raise :class:`ValueError` unless ``url`` is https, or http on a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"{what} {url!r} is not a valid URL") from exc
    if not host:
        raise ValueError(f"{what} {url!r} has no host")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(
            f"{what} {url!r} must use https (http is allowed only on 127.0.0.1, ::1 or localhost)"
        )
    if parts.scheme not in {"https", "http"}:
        raise ValueError(f"{what} {url!r} must be an https URL")
    if parts.fragment or (parts.query and not allow_query):
        raise ValueError(f"{what} {url!r} must not carry a query or a fragment")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _issuer_url(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError("issuer must be a non-empty URL")
    check_url(value, what="issuer", allow_query=False)
    if value != value.strip():
        raise ValueError(f"issuer {value!r} must not start or end with white space")


def _jwks_uri(instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        check_url(value, what=f"jwks_uri of issuer {instance.issuer!r}")


def _ca_bundle(instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        try:
            load_ca_bundle(_path(instance, "ca_bundle_path", value))
        except ValueError as exc:
            raise ValueError(f"issuer {instance.issuer!r}: {exc}") from None


def _bearer_token_file(
    instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        path = _path(instance, "jwks_bearer_token_path", value)
        try:
            with Path(path).open("rb"):
                pass
        except OSError as exc:
            raise ValueError(
                f"issuer {instance.issuer!r}: jwks_bearer_token_path {path!r} cannot be read: "
                f"{exc.strerror}"
            ) from None


def _path(instance: IssuerConfig, name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"issuer {instance.issuer!r}: {name} must be a non-empty file path")
    return value


def _strings(values: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def _audiences(
    instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: tuple[object, ...]
) -> None:
    if not value or not all(isinstance(a, str) and a for a in value):
        raise ValueError(
            f"issuer {instance.issuer!r} needs at least one audience, each a non-empty string"
        )


def _algorithms(
    instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: tuple[str, ...]
) -> None:
    if not value:
        raise ValueError(f"issuer {instance.issuer!r} needs at least one algorithm")
    refused = [alg for alg in value if alg not in ASYMMETRIC_ALGORITHMS]
    if refused:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ValueError(
            f"issuer {instance.issuer!r}: algorithm(s) {', '.join(map(repr, refused))} refused; "
            f"only asymmetric algorithms are allowed ({allowed})"
        )


def _kind(value: IssuerKind | str) -> IssuerKind:
    try:
        return IssuerKind(value)
    except ValueError:
        raise ValueError(f"kind must be one of user, machine, auto, not {value!r}") from None


def _user_claim(instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"issuer {instance.issuer!r}: user_claim must be a non-empty claim name")


def _leeway(instance: IssuerConfig, _attribute: attrs.Attribute[Any], value: object) -> None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else -1
    if not 0 <= number <= MAX_LEEWAY_SECONDS:
        raise ValueError(
            f"issuer {instance.issuer!r}: leeway must be between 0 and "
            f"{MAX_LEEWAY_SECONDS} seconds, not {value!r}"
        )


@attrs.frozen
class IssuerConfig:
    """One trusted token issuer.

    ``issuer`` is compared byte-for-byte with the ``iss`` claim. Keys come from ``jwks_uri``, or
    from the ``jwks_uri`` of the issuer's OIDC discovery document when it is not set.
    ``kind`` classifies tokens: ``auto`` means machine when ``gty`` is ``client-credentials`` or
    when ``client_id`` (or ``azp``) equals ``sub``, user otherwise. ``user_claim`` names the
    claim that carries a user's email; ``trust_email`` makes the issuer vouch for it even without
    ``email_verified``. ``leeway`` tolerates clock skew on ``nbf`` and ``iat``.

    ``ca_bundle_path`` (PEM) replaces the system's trusted roots for this issuer's discovery and
    JWKS requests: a Kubernetes API server's certificate is signed by the cluster's own CA.
    ``jwks_bearer_token_path`` names a file whose content is sent as ``Authorization: Bearer`` to
    the issuer's discovery document and JWKS (never to a discovered ``jwks_uri`` on another
    origin); it is read again on every fetch, so a rotated service-account token is picked up.
    Both files are checked when the configuration is loaded.
    """

    issuer: str = attrs.field(validator=_issuer_url)
    audiences: tuple[str, ...] = attrs.field(converter=_strings, validator=_audiences)
    jwks_uri: str | None = attrs.field(default=None, validator=_jwks_uri)
    algorithms: tuple[str, ...] = attrs.field(
        default=DEFAULT_ALGORITHMS, converter=_strings, validator=_algorithms
    )
    kind: IssuerKind = attrs.field(default=IssuerKind.AUTO, converter=_kind)
    user_claim: str = attrs.field(default="email", validator=_user_claim)
    leeway: float = attrs.field(default=60.0, validator=_leeway)
    trust_email: bool = False
    ca_bundle_path: str | None = attrs.field(default=None, validator=_ca_bundle)
    jwks_bearer_token_path: str | None = attrs.field(default=None, validator=_bearer_token_file)
