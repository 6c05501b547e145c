"""The four roles of Precis as Django groups, and the model permissions each one holds.

Roles are plain Django groups so that admins manage them in the Django admin; the
permissions of each group are recomputed after every migration, so a model added by a
later app is covered without a hand-written data migration.
"""

from enum import StrEnum

from django.contrib.auth.models import Group, Permission
from django.db.models import Q


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    ANALYST = "analyst"
    VIEWER = "viewer"


PRODUCT_APPS = ("customers", "segments", "campaigns", "analytics", "surveys", "reports", "jobs")
ALL_ACTIONS = ("view", "add", "change", "delete")

# (app label, actions) per role. Admin gets every permission, including users and groups.
ROLE_GRANTS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.MARKETER: {
        "customers": ALL_ACTIONS,
        "segments": ALL_ACTIONS,
        "campaigns": ALL_ACTIONS,
        "surveys": ALL_ACTIONS,
        "analytics": ("view", "add", "change"),  # train models, pick the one in use
        "reports": ALL_ACTIONS,  # funnel definitions, report refreshes
        "jobs": ("view", "add"),
    },
    Role.ANALYST: {
        "customers": ("view",),
        "segments": ("view", "add", "change"),
        "campaigns": ("view",),
        "surveys": ("view",),
        "analytics": ALL_ACTIONS,
        "reports": ALL_ACTIONS,
        "jobs": ("view", "add"),
    },
    Role.VIEWER: dict.fromkeys(PRODUCT_APPS, ("view",)),
}


def role_permissions(role: Role) -> "list[Permission]":
    if role == Role.ADMIN:
        return list(Permission.objects.all())
    condition = Q(pk__in=[])
    for app_label, actions in ROLE_GRANTS[role].items():
        for action in actions:
            condition |= Q(content_type__app_label=app_label, codename__startswith=f"{action}_")
    return list(Permission.objects.filter(condition))


def roles_sync(**kwargs) -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    if kwargs.get("using", "default") != "default":
        return
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_permissions(role))


def user_role(user) -> Role | None:
    """The strongest role a user holds; superusers count as admin."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in Role:
        if role.value in names:
            return role
    return None
