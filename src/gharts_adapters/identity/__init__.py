"""Identity adapter: JWT verification against trusted OIDC issuers, and the dev issuer."""

from gharts_adapters.identity.config import ASYMMETRIC_ALGORITHMS, IssuerConfig, IssuerKind
from gharts_adapters.identity.dev_issuer import DevIssuer
from gharts_adapters.identity.verifier import JwtVerifier

__all__ = ["ASYMMETRIC_ALGORITHMS", "DevIssuer", "IssuerConfig", "IssuerKind", "JwtVerifier"]
