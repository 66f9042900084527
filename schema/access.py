"""Users and API keys. Fields read `db.records.UserRecord` / `ApiKeyRecord` rows directly;
no field ever reads a key's hash."""

from datetime import datetime
from typing import Any

import strawberry

from db.records import ApiKeyRecord, UserRecord
from resolvers import access as resolve
from schema.enums import Role
from schema.node import Node, UserError

_ERRORS = "Business rules the input broke; empty on success."


@strawberry.type(description="A person (or an integration) of this tenant, with one role.")
class User(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.", resolver=resolve.user_global_id)
    email: str = strawberry.field(description="E-mail address (stored lower-case).")
    name: str | None = strawberry.field(description="Display name.")
    role: Role = strawberry.field(description="What the user may do.")
    active: bool = strawberry.field(
        description="False once deactivated: the user's API keys no longer work."
    )
    created_at: datetime = strawberry.field(description="When the user was created.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, UserRecord)


@strawberry.type(
    description=(
        "An API key acting as one user, with that user's role. Its secret is shown once, "
        "by createApiKey; only its prefix is kept in the clear."
    )
)
class ApiKey(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID.", resolver=resolve.api_key_global_id
    )
    name: str = strawberry.field(description="What the key is for.")
    prefix: str = strawberry.field(
        description="The public part of the key (`crm_<prefix>_…`), to tell keys apart."
    )
    user: User = strawberry.field(
        description="The user the key acts as.", resolver=resolve.api_key_user
    )
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null if never."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked; null while it is not."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key last authenticated a request (to the minute); null if never."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ApiKeyRecord)


@strawberry.type(description="Result of createUser, updateUserRole and deactivateUser.")
class UserPayload:
    user: User | None = strawberry.field(description="The user after the change.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of createApiKey.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    secret: str | None = strawberry.field(
        description=(
            "The whole key, to send as `Authorization: Bearer <secret>`. Shown only here, "
            "only once: it cannot be read again."
        )
    )
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of revokeApiKey.")
class ApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The key, now revoked.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)
