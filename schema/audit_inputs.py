"""The filter of `auditLog`.

Apart from schema/audit.py, which resolves through resolvers/audit.py: the resolvers
read this type, so it must not import the module that imports the resolvers.
"""

from datetime import datetime

import strawberry


@strawberry.input(description="Narrows `auditLog`; all given conditions must hold.")
class AuditLogFilter:
    entity_type: str | None = strawberry.field(
        default=None, description="Entries about this type: Lead, Sale, User or ApiKey."
    )
    entity_id: strawberry.ID | None = strawberry.field(
        default=None, description="Entries about this one object (its global ID)."
    )
    action: str | None = strawberry.field(
        default=None, description="Entries of this action, e.g. `lead.stage_changed`."
    )
    actor: str | None = strawberry.field(
        default=None, description="Entries made by this e-mail address, case-insensitive."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Entries made at or after this moment."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Entries made before this moment."
    )
