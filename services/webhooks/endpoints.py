"""Endpoints: admins register, change, delete them and rotate their secrets.

Every change is audited in its own transaction. A URL must pass url_safety when it is
saved (and again before each delivery). An endpoint wants at least one event type: an
empty list is refused, never read as "everything", so a new event type is never sent to
a receiver that did not ask for it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import webhooks as webhook_rows
from db.records import WebhookRecord
from domain.errors import DomainError, ErrorCode, not_found
from domain.events import EventType
from services import audit
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import Checks, field_path
from services.webhooks import signing, url_safety
from settings import WebhookSettings

MAX_WEBHOOKS_PER_TENANT = 20
# After a rotation the old secret signs too, for this long, while receivers switch.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class WebhookWithSecret:
    webhook: WebhookRecord
    secret: str  # returned once, to the admin who made or rotated it


@dataclass(frozen=True, slots=True)
class WebhookChanges:
    """What updateWebhook changes; None leaves a field as it is (`clear_description`
    empties the description)."""

    url: str | None = None
    event_types: Sequence[EventType] | None = None
    description: str | None = None
    clear_description: bool = False
    enabled: bool | None = None


async def create_webhook(
    *,
    db: Database,
    scope: Scope,
    policy: WebhookSettings,
    url: str,
    event_types: Sequence[EventType],
    description: str | None = None,
) -> WebhookWithSecret:
    """A new enabled endpoint of the caller's tenant, and its secret (shown only now).
    A tenant has at most MAX_WEBHOOKS_PER_TENANT, however many creates run at once."""
    checks = Checks()
    clean_url = await _url(checks, url, policy)
    types = _event_types(checks, event_types)
    clean_description = checks.text(description, field_path("description"), max_length=500)
    checks.raise_if_any()
    secret = signing.new_secret()
    async with db.transaction() as conn:
        # Creates of one tenant take turns, or two at 19 would both count 19 and insert.
        await webhook_rows.lock_creation(conn, tenant_id=scope.tenant_id)
        if await webhook_rows.count_webhooks(conn, tenant_id=scope.tenant_id) >= (
            MAX_WEBHOOKS_PER_TENANT
        ):
            raise DomainError.single(
                ErrorCode.VALIDATION_FAILED,
                f"A tenant has at most {MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first.",
            )
        webhook = await webhook_rows.insert_webhook(
            conn,
            values={
                "tenant_id": scope.tenant_id,
                "url": clean_url,
                "event_types": types,
                "description": clean_description,
                "secret": secret,
            },
        )
        await _audit(conn, scope, Action.WEBHOOK_CREATED, None, webhook)
    return WebhookWithSecret(webhook=webhook, secret=secret)


async def update_webhook(
    *, db: Database, scope: Scope, policy: WebhookSettings, webhook_id: int, changes: WebhookChanges
) -> WebhookRecord:
    """Change an endpoint. Enabling a disabled one clears why it was disabled and its
    count of failed deliveries; disabling one records who did it."""
    checks = Checks()
    values: dict[str, object] = {}
    if changes.url is not None:
        values["url"] = await _url(checks, changes.url, policy)
    if changes.event_types is not None:
        values["event_types"] = _event_types(checks, changes.event_types)
    if changes.clear_description:
        values["description"] = None
    elif changes.description is not None:
        values["description"] = checks.text(
            changes.description, field_path("description"), max_length=500
        )
    checks.raise_if_any()
    async with db.transaction() as conn:
        found = await _locked(conn, scope, webhook_id)
        values.update(_switch(found, changes.enabled, scope))
        if all(getattr(found, name) == value for name, value in values.items()):
            return found
        webhook = await webhook_rows.update_webhook(
            conn, tenant_id=scope.tenant_id, webhook_id=webhook_id, values=values
        )
        assert webhook is not None, "the endpoint is locked by this transaction"
        await _audit(conn, scope, Action.WEBHOOK_UPDATED, found, webhook)
    return webhook


def _switch(found: WebhookRecord, enabled: bool | None, scope: Scope) -> dict[str, object]:
    if enabled is None or enabled == found.enabled:
        return {}
    if enabled:
        return {
            "enabled": True,
            "consecutive_failures": 0,
            "disabled_at": None,
            "disabled_reason": None,
        }
    return {
        "enabled": False,
        "disabled_at": datetime.now(UTC),
        "disabled_reason": f"Disabled by {scope.actor or 'an admin'}.",
    }


async def delete_webhook(*, db: Database, scope: Scope, webhook_id: int) -> WebhookRecord:
    """Delete an endpoint and its deliveries; nothing more is sent to it. The endpoint as
    it was is returned."""
    async with db.transaction() as conn:
        found = await _locked(conn, scope, webhook_id)
        await webhook_rows.delete_webhook(conn, tenant_id=scope.tenant_id, webhook_id=webhook_id)
        await _audit(conn, scope, Action.WEBHOOK_DELETED, found, None)
    return found


async def rotate_secret(*, db: Database, scope: Scope, webhook_id: int) -> WebhookWithSecret:
    """A new secret, shown only now. The one it replaces still signs (as a second `v1`)
    for PREVIOUS_SECRET_GRACE, so receivers can switch without losing a delivery."""
    secret = signing.new_secret()
    async with db.transaction() as conn:
        found = await _locked(conn, scope, webhook_id)
        webhook = await webhook_rows.update_webhook(
            conn,
            tenant_id=scope.tenant_id,
            webhook_id=webhook_id,
            values={
                "secret": secret,
                "previous_secret": found.secret,
                "previous_secret_expires_at": datetime.now(UTC) + PREVIOUS_SECRET_GRACE,
            },
        )
        assert webhook is not None, "the endpoint is locked by this transaction"
        await _audit(conn, scope, Action.WEBHOOK_SECRET_ROTATED, found, webhook)
    return WebhookWithSecret(webhook=webhook, secret=secret)


def signing_secrets(webhook: WebhookRecord, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, then the previous one
    while its grace lasts."""
    expires = webhook.previous_secret_expires_at
    previous = webhook.previous_secret if expires is not None and expires > now else None
    return [webhook.secret] if previous is None else [webhook.secret, previous]


async def _url(checks: Checks, url: str, policy: WebhookSettings) -> str | None:
    field = field_path("url")
    cleaned = checks.text(url, field, max_length=url_safety.MAX_URL_LENGTH, required=True)
    if cleaned is None or checks.problems:
        return cleaned
    try:
        return await url_safety.check_url(
            cleaned,
            allow_private=policy.allow_private_addresses,
            lookup_seconds=policy.timeout_seconds,
        )
    except url_safety.UnsafeUrl as refusal:
        checks.fail(field, str(refusal))
        return None


def _event_types(checks: Checks, event_types: Sequence[EventType]) -> list[str]:
    if not event_types:
        checks.fail(field_path("eventTypes"), "Choose at least one event type.")
    return [event_type.value for event_type in EventType if event_type in set(event_types)]


async def _locked(conn: AsyncConnection, scope: Scope, webhook_id: int) -> WebhookRecord:
    found = await webhook_rows.get_webhook(
        conn, tenant_id=scope.tenant_id, webhook_id=webhook_id, for_update=True
    )
    if found is None:
        raise not_found("Webhook", field_path("webhookId"))
    return found


async def _audit(
    conn: AsyncConnection,
    scope: Scope,
    action: Action,
    before: WebhookRecord | None,
    after: WebhookRecord | None,
) -> None:
    webhook = after or before
    assert webhook is not None
    await audit.record(
        conn,
        scope,
        action=action,
        entity_type=Entity.WEBHOOK,
        entity_id=webhook.id,
        before=None if before is None else audit_fields(before),
        after=None if after is None else audit_fields(after),
    )


def audit_fields(webhook: WebhookRecord) -> audit.Fields:
    """An endpoint as the audit log shows it: never a secret, only until when the one a
    rotation replaced still signs."""
    return {
        "url": webhook.url,
        "description": webhook.description,
        "event_types": ", ".join(webhook.event_types),
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "previous_secret_expires_at": webhook.previous_secret_expires_at,
    }
