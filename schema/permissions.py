"""What each field needs: `permission_classes=needs(Permission.X)` on every root field.

The decision itself is `domain.access.allows`; a refusal is a GraphQL error with
`extensions.code: FORBIDDEN`, and the field's resolver never runs.
"""

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from domain.access import Permission, allows


class _Needs(BasePermission):
    permission: ClassVar[Permission]
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        role = info.context.scope.role
        return role is not None and allows(role, self.permission)


def _permission_class(permission: Permission) -> type[BasePermission]:
    message = f"Your role may not do this (it needs the {permission.name} permission)."
    return type(
        f"Needs{permission.name.title().replace('_', '')}",
        (_Needs,),
        {"permission": permission, "message": message},
    )


_CLASSES = {permission: _permission_class(permission) for permission in Permission}


def needs(permission: Permission) -> list[type[BasePermission]]:
    return [_CLASSES[permission]]


def root_permissions(schema: Any, type_name: str) -> dict[str, Permission]:
    """GraphQL name of each field of a root type -> the permission it declares."""
    definition = schema.get_type_by_name(type_name)
    if definition is None:
        return {}
    converter = schema.config.name_converter
    return {
        converter.get_graphql_name(field): permission_class.permission
        for field in definition.fields
        for permission_class in field.permission_classes
        if issubclass(permission_class, _Needs)
    }
