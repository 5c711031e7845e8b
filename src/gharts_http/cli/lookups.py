"""What an operator types to name a user or a client: an email or a subject, or the id.

The API addresses users and clients by id; at a shell people know emails and client subjects, so
the commands accept either. A subject shared by several clients (of different issuers) is
ambiguous and the error lists their ids.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import attrs

from gharts_core.errors import ClientNotFound, UserNotFound
from gharts_core.model import Principal, User
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page, PageResult
from gharts_core.services.admin_clients import ClientDetails, ClientQuery
from gharts_core.services.admin_users import UserDetails, UserQuery
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import UsageError

__all__ = ["all_pages", "client_by_ref", "user_by_ref"]

T = TypeVar("T")


async def all_pages(read: Callable[[Page], Awaitable[PageResult[T]]]) -> AsyncIterator[T]:
    """Yield every item of a paged listing, page after page of the largest size."""
    page = Page(limit=MAX_PAGE_SIZE)
    while True:
        found = await read(page)
        for item in found.items:
            yield item
        if not found.items or page.offset + len(found.items) >= found.total:
            return
        page = attrs.evolve(page, offset=page.offset + len(found.items))


def _as_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def user_by_ref(services: Services, principal: Principal, ref: str) -> User:
    """Return the user with this id or this email; ``UserNotFound`` names what was typed."""
    user_id = _as_id(ref)
    if user_id is not None:
        return (await services.users.get_user(principal, user_id)).user
    email = ref.strip().lower()
    query = UserQuery(email=email)
    found: list[UserDetails] = [
        details
        async for details in all_pages(lambda p: services.users.list_users(principal, query, p))
        if details.user.email == email
    ]
    if not found:
        raise UserNotFound(ref)
    return found[0].user


async def client_by_ref(services: Services, principal: Principal, ref: str) -> ClientDetails:
    """Return the client with this id, or the one with this subject (the active one first)."""
    client_id = _as_id(ref)
    if client_id is not None:
        return await services.clients.get_client(principal, client_id)
    every = [
        details
        async for details in all_pages(
            lambda p: services.clients.list_clients(principal, ClientQuery(), p)
        )
        if details.client.subject == ref
    ]
    active = [details for details in every if details.client.is_active]
    for candidates in (every, active):
        if len(candidates) == 1:
            return candidates[0]
    if not every:
        raise ClientNotFound(ref)
    ids = ", ".join(str(details.client.id) for details in every)
    raise UsageError(f"several clients have the subject {ref!r}; give one of their ids: {ids}")
