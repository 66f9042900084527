"""GraphQL input types of the mutations that manage users and API keys.

Apart from schema/access.py, which resolves through resolvers/access.py: the resolvers
read these types, so they must not import the module that imports the resolvers.
"""

from datetime import datetime

import strawberry

from schema.enums import Role


@strawberry.input(description="A new user of this tenant; it starts active.")
class CreateUserInput:
    email: str = strawberry.field(description="E-mail address, unique in the tenant.")
    role: Role = strawberry.field(description="What the user may do.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Display name, up to 200 characters."
    )


@strawberry.input(description="Give a user another role; it applies to their next request.")
class UpdateUserRoleInput:
    user_id: strawberry.ID = strawberry.field(description="The user (not yourself).")
    role: Role = strawberry.field(description="The new role.")


@strawberry.input(description="Deactivate a user; their API keys stop working at once.")
class DeactivateUserInput:
    user_id: strawberry.ID = strawberry.field(description="The user (not yourself).")


@strawberry.input(description="A new API key; its secret is returned once, by this mutation.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for, 1-200 characters.")
    user_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The active user the key acts as, with their role (default: you).",
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the key stops working; in the future. Default: never.",
    )


@strawberry.input(description="Revoke an API key; it stops working at once.")
class RevokeApiKeyInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key to revoke.")
