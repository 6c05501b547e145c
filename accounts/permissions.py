"""REST permission that maps HTTP methods to the role permissions of accounts.roles."""

from rest_framework.permissions import BasePermission

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class RolePermission(BasePermission):
    """Authenticated users need the model permission the method implies.

    A view names its permissions with ``required_permissions = {"POST": "app.codename"}``
    (for operations that are not CRUD on one model), or else the model of its queryset
    decides: GET needs view_<model>, POST add_<model>, and so on.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        explicit = getattr(view, "required_permissions", None)
        if explicit is not None:
            needed = explicit.get(request.method)
            return needed is None or user.has_perm(needed)
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return True
        meta = queryset.model._meta
        action = METHOD_ACTIONS.get(request.method, "change")
        return user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")
