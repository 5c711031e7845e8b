"""Issuer documents are fetched within a total time and size bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from gharts_adapters.identity._fetch import FetchError, fetch_json


class _EndlessBody(httpx.AsyncByteStream):
    """A body that sends one byte, then never another (a slow-drip server)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.Event().wait()


async def test_a_body_that_never_ends_is_a_fetch_error_after_the_total_timeout() -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, stream=_EndlessBody()))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(FetchError, match=r"did not answer within 0\.2 s"):
            await fetch_json(client, "https://issuer.test/jwks", limit=1024, http_timeout=0.2)


async def test_a_body_over_the_size_limit_is_a_fetch_error() -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, content=b" " * 2048))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(FetchError, match="larger than 1024 bytes"):
            await fetch_json(client, "https://issuer.test/jwks", limit=1024, http_timeout=5)
