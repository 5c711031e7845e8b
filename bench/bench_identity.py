"""Identity benchmark: token verifications per second on one core, with warm JWKS.

``distinct_*``: every token is different, so the verified-token cache never helps and each
verification parses, checks a signature and checks the claims (target: 5,000/s for RS256).
``cached``: one token presented again and again, answered from the verified-token cache.
``*_per_s`` divides by wall-clock time, ``*_per_cpu_s`` by the process's CPU time (the figure
for one core, unaffected by whatever else the host runs).
Keys are served in process (httpx.MockTransport) and loaded before the clock starts.

Run it with ``python -m bench identity`` or ``python bench/bench_identity.py``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import ECKey

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier

ISSUER = "http://127.0.0.1:8000/dev/oidc"
EC_ISSUER = "https://ec.example.com/"
AUDIENCE = "gharts"
DISTINCT_TOKENS = 3000
CACHED_VERIFICATIONS = 50_000
ROUNDS = 3


def _es256_issuer() -> tuple[dict[str, Any], Callable[[str], str]]:
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    jwks = {"keys": [key.as_dict(private=False, use="sig", alg="ES256")]}

    def mint(client_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": EC_ISSUER,
            "sub": client_id,
            "client_id": client_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 3600,
            "jti": secrets.token_urlsafe(12),
        }
        header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
        return jws.serialize_compact(header, json.dumps(claims), key, algorithms=["ES256"])

    return jwks, mint


async def _measure(
    tokens_by_issuer: dict[str, list[str]], documents: dict[str, Any]
) -> dict[str, Any]:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=documents[str(request.url)])

    configs = [
        IssuerConfig(issuer=ISSUER, audiences=[AUDIENCE], algorithms=["RS256"]),
        IssuerConfig(
            issuer=EC_ISSUER,
            audiences=[AUDIENCE],
            algorithms=["ES256"],
            jwks_uri=EC_ISSUER + "jwks",
        ),
    ]
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        for name, tokens in tokens_by_issuer.items():
            wall, cpu = [], []
            for _ in range(ROUNDS):
                verifier = JwtVerifier(configs, client)
                await verifier.warm()
                with _Timer() as timer:
                    for token in tokens:
                        await verifier.verify(token)
                wall.append(len(tokens) / timer.wall)
                cpu.append(len(tokens) / timer.cpu)
            results[f"distinct_{name}_per_s"] = round(statistics.median(wall))
            results[f"distinct_{name}_per_cpu_s"] = round(statistics.median(cpu))
        verifier = JwtVerifier(configs, client)
        await verifier.warm()
        token = tokens_by_issuer["rs256"][0]
        with _Timer() as timer:
            for _ in range(CACHED_VERIFICATIONS):
                await verifier.verify(token)
        results["cached_per_s"] = round(CACHED_VERIFICATIONS / timer.wall)
        results["cached_per_cpu_s"] = round(CACHED_VERIFICATIONS / timer.cpu)
    return results


class _Timer:
    """Wall-clock and CPU time of a block; CPU time is immune to other processes on the host."""

    def __enter__(self) -> _Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def run() -> dict[str, object]:
    """Return verifications per second: distinct RS256 and ES256 tokens, and a cached token."""
    dev = DevIssuer(ISSUER, audience=AUDIENCE)
    ec_jwks, mint_es256 = _es256_issuer()
    documents: dict[str, Any] = {ISSUER + path: doc for path, doc in dev.documents().items()}
    documents[EC_ISSUER + "jwks"] = ec_jwks
    tokens = {
        "rs256": [dev.mint_machine_token(f"client-{n}") for n in range(DISTINCT_TOKENS)],
        "es256": [mint_es256(f"client-{n}") for n in range(DISTINCT_TOKENS)],
    }
    results = asyncio.run(_measure(tokens, documents))
    return {
        **results,
        "target_distinct_per_s": 5000,
        "tokens_per_round": DISTINCT_TOKENS,
        "rounds": ROUNDS,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
