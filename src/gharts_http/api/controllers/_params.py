"""Query and path parameters several controllers share: paging, time ranges, ids."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from gharts_core.ports.storage import MAX_PAGE_SIZE

Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Page size (1-{MAX_PAGE_SIZE}).")
]
Offset = Annotated[int, QueryParameter(ge=0, description="How many matches to skip.")]
Since = Annotated[
    datetime | None,
    QueryParameter(description="Inclusive lower bound, RFC 3339 with an offset (...Z)."),
]
Until = Annotated[
    datetime | None,
    QueryParameter(description="Exclusive upper bound, RFC 3339 with an offset (...Z)."),
]
UserId = Annotated[uuid.UUID, PathParameter(description="The user's id.")]
