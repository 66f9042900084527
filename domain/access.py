"""Who may do what: roles and the permissions each one grants.

One table decides every access question; the API declares which permission each field
needs (schema/permissions.py) and asks this table.
"""

from enum import Enum


class Role(Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES = "sales"
    VIEWER = "viewer"


class Permission(Enum):
    READ = "read"
    WORK_LEADS = "work_leads"
    WORK_SALES = "work_sales"
    MANAGE_ACCESS = "manage_access"
    MANAGE_WEBHOOKS = "manage_webhooks"  # endpoints, their secrets, and their deliveries
    VIEW_AI_USAGE = "view_ai_usage"  # what AI scoring cost: calls, tokens, fallbacks
    MANAGE_SCORING = "manage_scoring"  # choose the tenant's scorer, train the learned one
    IMPORT_LEADS = "import_leads"  # bring leads (and their outcomes) in from CSV


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset({Permission.READ, Permission.WORK_LEADS, Permission.VIEW_AI_USAGE}),
    Role.SALES: frozenset({Permission.READ, Permission.WORK_SALES}),
    Role.VIEWER: frozenset({Permission.READ}),
}


# Imports (services/imports/): managers bring their team's pipeline and history in too.
GRANTS[Role.MANAGER] = GRANTS[Role.MANAGER] | {Permission.IMPORT_LEADS}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
