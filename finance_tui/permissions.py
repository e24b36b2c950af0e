"""The role matrix (docs/ARCHITECTURE.md: The role matrix): the only place that says who may do what."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    """Each value is the human phrase used in 'may not <value>' messages."""

    VIEW_DASHBOARD = "view the dashboard"
    VIEW_RECORDS = "view records"
    VIEW_ANALYTICS = "view analytics"
    EXPORT_CSV = "export CSV"
    WRITE_RECORDS = "create, edit, delete or restore records"
    VIEW_DELETED = "view deleted records"
    IMPORT_CSV = "import CSV"
    MANAGE_CATEGORIES = "manage categories"
    MANAGE_USERS = "manage users"
    VIEW_AUDIT = "view the audit log"
    CHANGE_OWN_PASSWORD = "change their own password"
    MANAGE_OWN_SSH_KEYS = "manage their own SSH keys"
    MANAGE_BUDGETS = "set or remove budgets"
    MANAGE_RECURRING = "manage recurring schedules"


_EVERYONE = {
    Permission.VIEW_DASHBOARD,
    Permission.VIEW_RECORDS,
    Permission.CHANGE_OWN_PASSWORD,
    Permission.MANAGE_OWN_SSH_KEYS,
}
_ANALYST = _EVERYONE | {Permission.VIEW_ANALYTICS, Permission.EXPORT_CSV}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_EVERYONE),
    Role.ANALYST: frozenset(_ANALYST),
    Role.ADMIN: frozenset(Permission),
}


def role_allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
