"""The audit log's types. Fields read `db.records.AuditRecord` rows directly."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from db.records import AuditRecord
from resolvers import audit as resolve
from resolvers.pagination import total_count
from schema.node import Node, PageInfo
from services.audit import Action

_ACTIONS = ", ".join(f"`{action.value}`" for action in Action)


@strawberry.type(
    description=(
        "One change to this tenant's data: who made it, to what, and each changed field "
        "before and after. Entries are never edited or removed."
    )
)
class AuditEntry(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID.", resolver=resolve.audit_entry_global_id
    )
    action: str = strawberry.field(description=f"What was done: one of {_ACTIONS}.")
    entity_type: str = strawberry.field(
        description="The type of what changed: Lead, Sale, User or ApiKey."
    )
    entity_id: strawberry.ID = strawberry.field(
        description="Global ID of what changed (it may since have been removed).",
        resolver=resolve.entity_global_id,
    )
    actor: str | None = strawberry.field(
        description="E-mail address of the user who made the change (or the tool's name)."
    )
    api_key_prefix: str | None = strawberry.field(
        description="Prefix of the API key the change was made with; null for a sign-in."
    )
    request_id: str | None = strawberry.field(
        description="The X-Request-ID of the request that made the change."
    )
    changes: JSON = strawberry.field(
        description=(
            'Each changed field, named as in the API: `{"stage": {"before": "new", '
            '"after": "contacted"}}`. Enums are their stored values, amounts strings, '
            "moments ISO 8601; `before` is null for what the change created."
        )
    )
    created_at: datetime = strawberry.field(name="at", description="When the change was made.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, AuditRecord)


@strawberry.type(description="An audit entry in a list, with its cursor.")
class AuditEntryEdge:
    node: AuditEntry = strawberry.field(description="The entry.")
    cursor: str = strawberry.field(description="Pass as `after` to page on from here.")


@strawberry.type(description="A page of the audit log, newest entry first.")
class AuditEntryConnection:
    edges: list[AuditEntryEdge] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(
        description="Entries matching the filter across all pages (counted only when asked).",
        resolver=total_count,
    )
