"""The audit log: each state change appends who made it, to what, and what changed.

Services call `record` on the connection of the change itself, so the change and its
entry commit or roll back together: a refused or failed mutation leaves no entry. Only
business fields are kept (never a key's secret or hash), as JSON: enums as their values,
amounts as strings, moments in ISO 8601, field names as the API spells them.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
from db.queries import audit as audit_rows
from db.records import ApiKeyRecord, LeadRecord, SaleRecord, UserRecord
from services.scope import Scope

Fields = Mapping[str, object]
Json = str | int | float | bool | None


class Entity(StrEnum):
    """What an entry is about, named as the API's types (its global IDs use these)."""

    LEAD = "Lead"
    SALE = "Sale"
    USER = "User"
    API_KEY = "ApiKey"
    WEBHOOK = "Webhook"
    WEBHOOK_DELIVERY = "WebhookDelivery"
    SCORER_MODEL = "ScorerModel"
    SCORER_SETTINGS = "ScorerSettings"  # one per tenant: its id is the tenant's
    LEAD_IMPORT = "LeadImport"  # one CSV import run (services/imports/)


class Action(StrEnum):
    LEAD_CREATED = "lead.created"
    LEAD_UPDATED = "lead.updated"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_MESSAGE_RECORDED = "lead.message_recorded"
    LEAD_ANALYZED = "lead.analyzed"
    LEAD_TRANSFERRED = "lead.transferred"
    SALE_CREATED = "sale.created"
    SALE_STAGE_CHANGED = "sale.stage_changed"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DEACTIVATED = "user.deactivated"
    API_KEY_ISSUED = "api_key.issued"
    API_KEY_REVOKED = "api_key.revoked"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"  # noqa: S105 - an action, not a secret
    WEBHOOK_DISABLED = "webhook.disabled"  # by the worker, after deliveries kept failing
    WEBHOOK_REDELIVERED = "webhook.redelivered"  # an admin asked for a new delivery
    SCORER_TRAINED = "scorer.trained"
    SCORER_CHOSEN = "scorer.chosen"
    LEADS_IMPORTED = "leads.imported"  # one entry per import run, with its counts


# What an entry may show of each entity: bookkeeping (ids, timestamps) and secrets never.
_LEAD = (
    "name",
    "company",
    "email",
    "phone",
    "source",
    "business_domain",
    "stage",
    "lost_reason",
    "message_count",
    "version",
)
_SALE = ("stage", "amount", "currency", "version")
_USER = ("email", "name", "role", "active")
_API_KEY = ("name", "prefix", "expires_at", "revoked_at")


def lead_fields(lead: LeadRecord) -> Fields:
    return _pick(lead, _LEAD)


def sale_fields(sale: SaleRecord) -> Fields:
    return _pick(sale, _SALE)


def user_fields(user: UserRecord) -> Fields:
    return _pick(user, _USER)


def api_key_fields(key: ApiKeyRecord, *, owner_email: str | None = None) -> Fields:
    """A key as the log shows it: its public prefix and, when known, whose it is."""
    fields = _pick(key, _API_KEY)
    return fields if owner_email is None else {**fields, "owner": owner_email}


async def record(
    conn: AsyncConnection,
    scope: Scope,
    *,
    action: Action,
    entity_type: Entity,
    entity_id: int,
    before: Fields | None,
    after: Fields | None,
) -> None:
    """Append one entry with each field that differs between `before` (None: the entity
    is new) and `after`; a change that changed nothing appends nothing."""
    changes = changed_fields(before or {}, after or {})
    if changes:
        entry = _entry(scope, action, entity_type, changes)
        values = {**entry, "tenant_id": scope.tenant_id, "entity_id": entity_id}
        await audit_rows.append(conn, values=values)


def record_in(
    change: Change,
    scope: Scope,
    *,
    action: Action,
    entity_type: Entity,
    before: Fields | None,
    after: Fields,
) -> None:
    """As `record`, for the row `change` writes (`after` is that row as it will be),
    appended by the change's own statement."""
    changes = changed_fields(before or {}, after)
    if changes:
        audit_rows.append_in(change, values=_entry(scope, action, entity_type, changes))


def _entry(
    scope: Scope, action: Action, entity_type: Entity, changes: dict[str, dict[str, Json]]
) -> dict[str, object]:
    return {
        "action": action.value,
        "entity_type": entity_type.value,
        "actor": scope.actor,
        "user_id": scope.user_id,
        "api_key_prefix": scope.api_key_prefix,
        "request_id": scope.request_id,
        "changes": changes,
    }


def changed_fields(before: Fields, after: Fields) -> dict[str, dict[str, Json]]:
    """{apiName: {"before": …, "after": …}} for each field whose value differs."""
    names = [*before, *(name for name in after if name not in before)]
    return {
        api_name(name): _change(before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    }


def _change(before: object, after: object) -> dict[str, Json]:
    return {"before": json_safe(before), "after": json_safe(after)}


def json_safe(value: object) -> Json:
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} has no place in an audit entry")


def _pick(record: object, names: tuple[str, ...]) -> Fields:
    return {name: getattr(record, name) for name in names}


def api_name(name: str) -> str:
    """`business_domain` -> `businessDomain`: what the API calls the field."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
