"""Users and API keys: the caller, the admin's lists, and the mutations that manage them."""

from dataclasses import dataclass, field

from db.queries import access as access_rows
from db.records import ApiKeyRecord, AuditRecord, UserRecord
from domain.access import Permission, allows
from domain.errors import Problem
from domain.global_ids import to_global_id
from resolvers.context import Info
from resolvers.datetimes import as_utc
from resolvers.input import given, input_id
from resolvers.mutations import refusals_as
from schema import access_inputs as inputs
from services import api_keys, users
from services.scope import Scope


@dataclass
class UserPayload:
    user: UserRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class ApiKeyPayload:
    api_key: ApiKeyRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class CreateApiKeyPayload:
    api_key: ApiKeyRecord | None = None
    secret: str | None = None
    user_errors: list[Problem] = field(default_factory=list)


def may_see(scope: Scope, record: object) -> bool:
    """Users and keys are shown to those who manage access, and to the user they are of;
    audit entries only to those who manage access; every other record is not this rule's
    business."""
    can_manage = scope.role is not None and allows(scope.role, Permission.MANAGE_ACCESS)
    if isinstance(record, AuditRecord):
        return can_manage
    if isinstance(record, UserRecord):
        owner_id = record.id
    elif isinstance(record, ApiKeyRecord):
        owner_id = record.user_id
    else:
        return True
    return can_manage or owner_id == scope.user_id


def user_global_id(root: UserRecord) -> str:
    return to_global_id("User", root.id)


def api_key_global_id(root: ApiKeyRecord) -> str:
    return to_global_id("ApiKey", root.id)


async def api_key_user(root: ApiKeyRecord, info: Info) -> UserRecord:
    user = await info.context.loaders.user_by_id.load(root.user_id)
    assert user is not None, "a key always belongs to a user of its tenant"
    return user


async def me(info: Info) -> UserRecord:
    user_id = info.context.scope.user_id
    user = None if user_id is None else await info.context.loaders.user_by_id.load(user_id)
    assert user is not None, "every authenticated caller is a user of its tenant"
    return user


async def all_users(info: Info) -> list[UserRecord]:
    async with info.context.app.db.read() as conn:
        return await access_rows.list_users(conn, tenant_id=info.context.scope.tenant_id)


async def all_api_keys(info: Info) -> list[ApiKeyRecord]:
    async with info.context.app.db.read() as conn:
        return await access_rows.list_api_keys(conn, tenant_id=info.context.scope.tenant_id)


@refusals_as(UserPayload)
async def create_user(info: Info, data: inputs.CreateUserInput) -> UserPayload:
    user = await users.create_user(
        db=info.context.app.db,
        scope=info.context.scope,
        email=data.email,
        role=data.role,
        name=given(data.name),
    )
    return UserPayload(user=user)


@refusals_as(UserPayload)
async def update_user_role(info: Info, data: inputs.UpdateUserRoleInput) -> UserPayload:
    user = await users.update_user_role(
        db=info.context.app.db,
        scope=info.context.scope,
        user_id=input_id(data.user_id, "User", "userId"),
        role=data.role,
        callers=info.context.app.callers,
    )
    return UserPayload(user=user)


@refusals_as(UserPayload)
async def deactivate_user(info: Info, data: inputs.DeactivateUserInput) -> UserPayload:
    user = await users.deactivate_user(
        db=info.context.app.db,
        scope=info.context.scope,
        user_id=input_id(data.user_id, "User", "userId"),
        callers=info.context.app.callers,
    )
    return UserPayload(user=user)


@refusals_as(CreateApiKeyPayload)
async def create_api_key(info: Info, data: inputs.CreateApiKeyInput) -> CreateApiKeyPayload:
    user_id = given(data.user_id)
    issued = await api_keys.issue_key(
        db=info.context.app.db,
        scope=info.context.scope,
        name=data.name,
        user_id=None if user_id is None else input_id(user_id, "User", "userId"),
        expires_at=as_utc(given(data.expires_at), "input.expiresAt"),
    )
    return CreateApiKeyPayload(api_key=issued.key, secret=issued.secret)


@refusals_as(ApiKeyPayload)
async def revoke_api_key(info: Info, data: inputs.RevokeApiKeyInput) -> ApiKeyPayload:
    key = await api_keys.revoke_key(
        db=info.context.app.db,
        scope=info.context.scope,
        key_id=input_id(data.api_key_id, "ApiKey", "apiKeyId"),
        callers=info.context.app.callers,
    )
    return ApiKeyPayload(api_key=key)
