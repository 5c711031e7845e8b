"""Operations endpoints, anonymous: liveness."""

from __future__ import annotations

from litestar import get

from gharts_http.schemas.common import StatusBody


@get("/healthz", tags=["operations"], summary="Liveness: the process answers")
async def healthz() -> StatusBody:
    """Answer ``{"status": "ok"}`` while the process is alive."""
    return StatusBody(status="ok")
