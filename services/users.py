"""People and integrations of a tenant, each with one role."""

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import access
from db.records import UserRecord
from domain.access import Role
from domain.errors import DomainError, ErrorCode, not_found
from services import audit
from services.api_keys import issue_key
from services.audit import Action, Entity
from services.caller_cache import CallerCache
from services.scope import Scope
from services.validation import Checks, field_path

BOOTSTRAP_ADMIN_EMAIL = "admin@crm.localhost"


async def create_user(
    *, db: Database, scope: Scope, email: str, role: Role, name: str | None = None
) -> UserRecord:
    """A new active user of the caller's tenant; e-mails are unique per tenant."""
    checks = Checks()
    clean_email = checks.email(email, field_path("email"))
    clean_name = checks.text(name, field_path("name"), max_length=200)
    if clean_email is None:
        checks.fail(field_path("email"), "This field is required.")
    checks.raise_if_any()
    async with db.transaction() as conn:
        user = await access.insert_user(
            conn,
            values={
                "tenant_id": scope.tenant_id,
                "email": clean_email,
                "name": clean_name,
                "role": role,
            },
        )
        if user is None:
            raise DomainError.single(
                ErrorCode.VALIDATION_FAILED,
                "A user with this e-mail already exists.",
                field_path("email"),
            )
        await _audit(conn, scope, Action.USER_CREATED, None, user)
    return user


async def update_user_role(
    *, db: Database, scope: Scope, user_id: int, role: Role, callers: CallerCache | None = None
) -> UserRecord:
    """Change a user's role; nobody changes their own (an admin cannot lock themselves out).
    Their keys act with the new role at once (see `_update` for `callers`)."""
    _refuse_self(scope, user_id, "change your own role")
    changes: dict[str, object] = {"role": role}
    return await _update(db, scope, Action.USER_ROLE_CHANGED, user_id, changes, callers)


async def deactivate_user(
    *, db: Database, scope: Scope, user_id: int, callers: CallerCache | None = None
) -> UserRecord:
    """A deactivated user's keys stop working at once; the user and history stay."""
    _refuse_self(scope, user_id, "deactivate yourself")
    changes: dict[str, object] = {"active": False}
    return await _update(db, scope, Action.USER_DEACTIVATED, user_id, changes, callers)


def _refuse_self(scope: Scope, user_id: int, what: str) -> None:
    if scope.user_id == user_id:
        raise DomainError.single(
            ErrorCode.FORBIDDEN, f"You cannot {what}; ask another admin.", field_path("userId")
        )


async def _update(
    db: Database,
    scope: Scope,
    action: Action,
    user_id: int,
    values: dict[str, object],
    callers: CallerCache | None,
) -> UserRecord:
    """Change a user. `callers`, this process's cache of callers, forgets the tenant's
    before this returns; other processes forget on the notification (migration 0016)."""
    async with db.transaction() as conn:
        user = await access.get_user(
            conn, tenant_id=scope.tenant_id, user_id=user_id, for_update=True
        )
        if user is None:
            raise not_found("User", field_path("userId"))
        updated = await access.update_user(
            conn, tenant_id=scope.tenant_id, user_id=user_id, values=values
        )
        assert updated is not None, "the user is locked by this transaction"
        await _audit(conn, scope, action, user, updated)
    if callers is not None:
        callers.access_changed(scope.tenant_id)
    return updated


async def _audit(
    conn: AsyncConnection,
    scope: Scope,
    action: Action,
    before: UserRecord | None,
    after: UserRecord,
) -> None:
    await audit.record(
        conn,
        scope,
        action=action,
        entity_type=Entity.USER,
        entity_id=after.id,
        before=None if before is None else audit.user_fields(before),
        after=audit.user_fields(after),
    )


async def bootstrap_admin_key(*, db: Database, tenant_id: int) -> str | None:
    """For a tenant with no users yet: an admin and a key for it, returned to print once.
    None when the tenant already has users (or another process is doing it)."""
    async with db.exclusive(_BOOTSTRAP_LOCK):
        async with db.read() as conn:
            if await access.count_users(conn, tenant_id=tenant_id):
                return None
        return await admin_key(db=db, tenant_id=tenant_id, email=BOOTSTRAP_ADMIN_EMAIL)


async def admin_key(*, db: Database, tenant_id: int, email: str) -> str:
    """A new key for the admin with this e-mail, creating that admin if needed: how the
    first admin of a production database is made (`python -m server create-admin`)."""
    system = Scope(tenant_id=tenant_id, actor="create-admin")
    async with db.read() as conn:
        admin = await access.user_by_email(conn, tenant_id=tenant_id, email=email)
    if admin is None:
        admin = await create_user(db=db, scope=system, email=email, role=Role.ADMIN, name="Admin")
    elif admin.role is not Role.ADMIN or not admin.active:
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED,
            f"{admin.email} exists but is not an active admin.",
            field_path("email"),
        )
    owner = Scope(tenant_id=tenant_id, actor=admin.email, user_id=admin.id, role=admin.role)
    issued = await issue_key(db=db, scope=owner, name="created by create-admin")
    return issued.secret


_BOOTSTRAP_LOCK = 0x43524D_41444D4E  # "CRM" "ADMN"
