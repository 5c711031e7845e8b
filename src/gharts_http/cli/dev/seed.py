"""The seed data of ``gharts dev``: an admin, a team ``demo`` with a policy, a machine client.

Seeding is idempotent and never undoes what someone changed since: an existing team or client
(even deactivated or disabled) is left as it is, and the admin joins ``demo`` only when the team
is created. Everything is written through the admin services as the system actor, so the audit
log shows the seed like any other change.
"""

from __future__ import annotations

import attrs

from gharts_core.errors import TeamNotFound
from gharts_core.model import Principal
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.admin_clients import ClientQuery, CreateClient
from gharts_core.services.admin_teams import CreateTeam
from gharts_http.bootstrap import Services

DEV_ADMIN_EMAIL = "admin@gharts.dev"
DEV_ADMIN_NAME = "Dev Admin"
DEMO_TEAM = CreateTeam(
    name="demo",
    description="The team gharts dev seeds: try labels gpu-a100 or size-small.",
    # GitHub's system labels (self-hosted, linux, x64...) cannot be required labels.
    required_labels=("demo",),
    optional_label_patterns=("gpu-.*", "size-(small|medium|large)"),
    max_runners=10,
)
DEMO_CLIENT = "demo-ci"


@attrs.frozen
class SeedReport:
    """What one seeding run created (empty when everything was already there)."""

    created: tuple[str, ...]


async def _seed_team(services: Services, system: Principal) -> bool:
    try:
        await services.teams.get_team(system, DEMO_TEAM.name)
    except TeamNotFound:
        await services.teams.create_team(system, DEMO_TEAM)
        return True
    return False


async def _seed_client(services: Services, system: Principal, issuer: str) -> bool:
    page = Page(limit=MAX_PAGE_SIZE)
    query = ClientQuery(issuer=issuer)
    while True:
        found = await services.clients.list_clients(system, query, page)
        if any(details.client.subject == DEMO_CLIENT for details in found.items):
            return False
        if page.offset + page.limit >= found.total:
            break
        page = attrs.evolve(page, offset=page.offset + page.limit)
    await services.clients.create_client(
        system,
        CreateClient(
            issuer=issuer,
            subject=DEMO_CLIENT,
            team=DEMO_TEAM.name,
            description="The CI system of team demo (gharts dev seed).",
        ),
    )
    return True


async def seed_dev_data(services: Services, issuer: str) -> SeedReport:
    """Create what is missing of the dev seed; ``issuer`` is the dev issuer's URL."""
    system = Principal.system()
    created: list[str] = []
    admin = await services.users.ensure_admin(DEV_ADMIN_EMAIL, DEV_ADMIN_NAME)
    if admin.created:
        created.append(f"admin {DEV_ADMIN_EMAIL}")
    if await _seed_team(services, system):
        created.append(f"team {DEMO_TEAM.name}")
        await services.teams.add_member(system, DEMO_TEAM.name, admin.user.id)
    if await _seed_client(services, system, issuer):
        created.append(f"machine client {DEMO_CLIENT}")
    return SeedReport(created=tuple(created))
