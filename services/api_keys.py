"""API keys for integrations: random, shown once, stored as a hash, revocable.

A key reads `crm_<prefix>_<secret>`. The prefix is public (listings show it, and it finds
the key); only a SHA-256 of the secret is stored. Keys are 256-bit random, so a plain
hash is as strong as a slow one and costs nothing per request.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from db.database import Database
from db.queries import access
from db.records import ApiKeyRecord
from db.tenancy import acting_for
from domain.access import Role
from domain.errors import DomainError, ErrorCode, not_found
from services import audit
from services.audit import Action, Entity
from services.caller_cache import CallerCache
from services.scope import Scope
from services.validation import Checks, field_path

_KEY = re.compile(r"^crm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKeyRecord
    secret: str  # the whole key; returned once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return prefix, f"crm_{prefix}_{secret}"


def looks_like_api_key(token: str) -> bool:
    return token.startswith("crm_")


async def authenticate(*, db: Database, token: str) -> Scope | None:
    """The caller a key stands for, or None when it is unknown, wrong, revoked, expired,
    or its user is deactivated (the caller is not told which)."""
    match = _KEY.match(token)
    if match is None:
        return None
    async with db.transaction() as conn:
        found = await access.authenticate_key(conn, prefix=match.group(1), secret_hash=_hash(token))
    if found is None:
        return None
    return Scope(
        tenant_id=found.tenant_id,
        actor=found.email,
        user_id=found.user_id,
        role=found.role,
        api_key_id=found.api_key_id,
        api_key_prefix=match.group(1),
    )


async def expires_at(*, db: Database, scope: Scope) -> datetime | None:
    """When the key the caller was authenticated with expires (None: never). Asked only to
    know how long the caller may be remembered; a key gone since has no time left."""
    assert scope.api_key_id is not None, "the caller came with an API key"
    with acting_for(scope.tenant_id):
        async with db.read() as conn:
            found = await access.get_api_keys(
                conn, tenant_id=scope.tenant_id, key_ids=[scope.api_key_id]
            )
    return found[0].expires_at if found else datetime.now(UTC)


async def issue_key(
    *,
    db: Database,
    scope: Scope,
    name: str,
    user_id: int | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """A new key acting for `user_id` (default: the caller) in the caller's tenant."""
    checks = Checks()
    clean_name = checks.text(name, field_path("name"), max_length=200, required=True)
    if expires_at is not None and expires_at <= datetime.now(UTC):
        checks.fail(field_path("expiresAt"), "The expiry must be in the future.")
    checks.raise_if_any()
    owner_id = user_id if user_id is not None else scope.user_id
    prefix, secret = _new_key()
    async with db.transaction() as conn:
        owner = (
            None
            if owner_id is None
            else await access.get_user(conn, tenant_id=scope.tenant_id, user_id=owner_id)
        )
        if owner is None:
            raise not_found("User", field_path("userId"))
        if not owner.active:
            raise DomainError.single(
                ErrorCode.VALIDATION_FAILED,
                "A deactivated user cannot get new keys.",
                field_path("userId"),
            )
        if owner.role is Role.ADMIN and owner.id != scope.user_id:
            # A key acts as its user: one admin must not act as another (e.g. to change
            # their own role through the other's key).
            raise DomainError.single(
                ErrorCode.FORBIDDEN,
                "Only that admin can make keys for an admin account.",
                field_path("userId"),
            )
        key = await access.insert_api_key(
            conn,
            values={
                "tenant_id": scope.tenant_id,
                "user_id": owner.id,
                "name": clean_name,
                "prefix": prefix,
                "secret_hash": _hash(secret),
                "expires_at": expires_at,
            },
        )
        await audit.record(
            conn,
            scope,
            action=Action.API_KEY_ISSUED,
            entity_type=Entity.API_KEY,
            entity_id=key.id,
            before=None,
            after=audit.api_key_fields(key, owner_email=owner.email),
        )
    return IssuedKey(key=key, secret=secret)


async def revoke_key(
    *, db: Database, scope: Scope, key_id: int, callers: CallerCache | None = None
) -> ApiKeyRecord:
    """Revoke a key of the caller's tenant; it stops working at once: `callers`, this
    process's cache, forgets it before this returns, other processes on the notification.
    Revoking it again changes nothing (and logs nothing)."""
    async with db.transaction() as conn:
        found = await access.get_api_keys(
            conn, tenant_id=scope.tenant_id, key_ids=[key_id], for_update=True
        )
        if not found:
            raise not_found("API key", field_path("apiKeyId"))
        key = await access.revoke_api_key(conn, tenant_id=scope.tenant_id, key_id=key_id)
        assert key is not None, "the key is locked by this transaction"
        await audit.record(
            conn,
            scope,
            action=Action.API_KEY_REVOKED,
            entity_type=Entity.API_KEY,
            entity_id=key.id,
            before=audit.api_key_fields(found[0]),
            after=audit.api_key_fields(key),
        )
    if callers is not None:
        callers.access_changed(scope.tenant_id)
    return key
