"""SQL implementations of the storage port's repositories, one module per family."""

from gharts_adapters.storage.repositories.events import (
    SqlAuditRepository,
    SqlSecurityEventRepository,
    SqlSyncStateRepository,
    SqlWebhookDeliveryRepository,
)
from gharts_adapters.storage.repositories.people import (
    SqlClientRepository,
    SqlMembershipRepository,
    SqlTeamRepository,
    SqlUserRepository,
)
from gharts_adapters.storage.repositories.runners import SqlRunnerRepository
from gharts_adapters.storage.repositories.sessions import SqlDashboardSessionRepository

__all__ = [
    "SqlAuditRepository",
    "SqlClientRepository",
    "SqlDashboardSessionRepository",
    "SqlMembershipRepository",
    "SqlRunnerRepository",
    "SqlSecurityEventRepository",
    "SqlSyncStateRepository",
    "SqlTeamRepository",
    "SqlUserRepository",
    "SqlWebhookDeliveryRepository",
]
