"""Token verification metrics: a metering decorator around the :class:`TokenVerifier` port."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter

from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenVerifier, VerifiedToken


class TokenMetrics:
    """Bearer token verifications by outcome: ``ok`` or the refusal reason."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.verifications = Counter(
            "gharts_token_verifications",
            "Bearer token verifications by outcome (ok, or why the token was refused).",
            ["outcome"],
            registry=registry,
        )

    def observe(self, outcome: str) -> None:
        """Count one verification that ended with ``outcome``."""
        self.verifications.labels(outcome).inc()


class MeteredTokenVerifier:
    """A :class:`TokenVerifier` that counts the outcome of every verification it delegates."""

    def __init__(self, inner: TokenVerifier, metrics: TokenMetrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def verify(self, token: str) -> VerifiedToken:
        """Return the verified claims, or raise :class:`InvalidToken` (counted by reason)."""
        try:
            verified = await self.inner.verify(token)
        except InvalidToken as error:
            self._metrics.observe(error.reason)
            raise
        self._metrics.observe("ok")
        return verified

    def readiness(self) -> Mapping[str, bool]:
        """Return, per configured issuer, whether its signing keys are loaded."""
        return self.inner.readiness()

    async def warm(self) -> Mapping[str, bool]:
        """Load every issuer's keys now when the verifier can (start-up); return readiness."""
        warm = getattr(self.inner, "warm", None)
        if warm is not None:
            result: Mapping[str, bool] = await warm()
            return result
        return self.readiness()
