"""Creating and editing leads, moving them through the pipeline, logging messages."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import leads as lead_rows
from db.queries import messages as message_rows
from db.queries import stage_changes
from db.records import LeadRecord
from domain.enums import LeadSource, LeadStage, MessageDirection
from domain.errors import not_found
from domain.events import EventType
from domain.lifecycle import ensure_lead_editable, ensure_lead_transition, ensure_version
from services import audit, background_scoring, events, outcomes
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import Checks, field_path

LEAD_ID_FIELD = field_path("leadId")


@dataclass(frozen=True, slots=True)
class NewLead:
    name: str
    source: LeadSource
    business_domain: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    idempotency_key: str | None = None


# Field name -> new value; a field that is absent stays as it is, None clears it.
LeadChanges = Mapping[str, str | None]


async def create_lead(*, db: Database, scope: Scope, new: NewLead) -> LeadRecord:
    """Create a NEW lead. A repeated idempotency key returns the first lead, unchanged."""
    checks = Checks()
    values = _clean_fields(checks, _new_lead_fields(new))
    key = checks.text(new.idempotency_key, field_path("idempotencyKey"), max_length=200)
    checks.raise_if_any()
    async with db.transaction() as conn:
        created = await lead_rows.insert_lead(
            conn,
            values={
                **values,
                "source": new.source,
                "tenant_id": scope.tenant_id,
                "idempotency_key": key,
            },
        )
        if created is None:
            # Only a taken idempotency key skips the insert; the row holding it is committed.
            existing = await lead_rows.get_by_idempotency_key(
                conn, tenant_id=scope.tenant_id, key=key or ""
            )
            if existing is None:
                raise RuntimeError("createLead skipped its insert but found no lead for the key")
            return existing
        await stage_changes.record(
            conn,
            tenant_id=scope.tenant_id,
            lead_id=created.id,
            from_stage=None,
            to_stage=created.stage.value,
            actor=scope.actor,
        )
        await _audit(conn, scope, Action.LEAD_CREATED, None, created)
        await events.record(
            conn,
            scope,
            EventType.LEAD_CREATED,
            lead_id=created.id,
            data={"fromStage": None, "toStage": created.stage},
        )
        return created


def _new_lead_fields(new: NewLead) -> dict[str, str | None]:
    return {
        "name": new.name,
        "business_domain": new.business_domain,
        "company": new.company,
        "email": new.email,
        "phone": new.phone,
    }


def _clean_fields(checks: Checks, values: LeadChanges) -> dict[str, str | None]:
    """Validate and normalise whichever editable fields are present."""
    return {name: _check_field(checks, name, value) for name, value in values.items()}


def _check_field(checks: Checks, name: str, value: str | None) -> str | None:
    if name == "name":
        return checks.text(value, field_path("name"), max_length=200, required=True)
    if name == "email":
        return checks.email(value, field_path("email"))
    if name == "phone":
        return checks.phone(value, field_path("phone"))
    if name == "company":
        return checks.text(value, field_path("company"), max_length=200)
    if name == "business_domain":
        return checks.text(value, field_path("businessDomain"), max_length=100)
    raise ValueError(f"{name} is not an editable lead field")


async def update_lead(
    *,
    db: Database,
    scope: Scope,
    lead_id: int,
    changes: LeadChanges,
    expected_version: int | None = None,
) -> LeadRecord:
    """Edit contact data of an open lead; transferred and lost leads are immutable."""
    checks = Checks()
    values = _clean_fields(checks, changes)
    checks.raise_if_any()
    async with db.transaction() as conn:
        lead = await _locked_lead(conn, scope, lead_id)
        ensure_version(expected_version, lead.version)
        ensure_lead_editable(lead.stage)
        values = {name: value for name, value in values.items() if getattr(lead, name) != value}
        if not values:  # an edit to what is already there changes nothing, version included
            return lead
        updated = await lead_rows.update_lead(conn, lead_id=lead.id, values=values)
        await _audit(conn, scope, Action.LEAD_UPDATED, lead, updated)
        await events.record(
            conn,
            scope,
            EventType.LEAD_UPDATED,
            lead_id=lead.id,
            data={"fields": sorted(_api_names(values))},
        )
        return updated


async def change_lead_stage(
    *,
    db: Database,
    scope: Scope,
    lead_id: int,
    stage: LeadStage,
    reason: str | None = None,
    expected_version: int | None = None,
) -> LeadRecord:
    """Move a lead one step forward, or to LOST with a reason; never backwards."""
    checks = Checks()
    reason = checks.text(reason, field_path("reason"), max_length=1000, multiline=True)
    if stage is LeadStage.LOST and reason is None:
        checks.fail(field_path("reason"), "A reason is required to mark a lead LOST.")
    checks.raise_if_any()
    async with db.transaction() as conn:
        lead = await _locked_lead(conn, scope, lead_id)
        ensure_version(expected_version, lead.version)
        ensure_lead_transition(lead.stage, stage)
        values: dict[str, object] = {"stage": stage}
        if stage is LeadStage.LOST:
            values["lost_reason"] = reason
        updated = await lead_rows.update_lead(conn, lead_id=lead.id, values=values)
        await stage_changes.record(
            conn,
            tenant_id=scope.tenant_id,
            lead_id=lead.id,
            from_stage=lead.stage.value,
            to_stage=stage.value,
            actor=scope.actor,
            reason=reason,
        )
        await _audit(conn, scope, Action.LEAD_STAGE_CHANGED, lead, updated)
        await outcomes.record_for_lead(conn, scope, before=lead, after=updated)
        await events.record(
            conn,
            scope,
            EventType.LEAD_STAGE_CHANGED,
            lead_id=lead.id,
            data={"fromStage": lead.stage, "toStage": updated.stage},
        )
        return updated


async def record_lead_message(
    *,
    db: Database,
    scope: Scope,
    lead_id: int,
    direction: MessageDirection,
    channel: str,
    text: str | None,
    rescore_every: int = 0,
) -> LeadRecord:
    """Log one message with an open lead; it counts towards the lead's engagement. Every
    `rescore_every`-th inbound one (0: none) queues a background re-analysis."""
    checks = Checks()
    channel_value = checks.text(channel, field_path("channel"), max_length=50, required=True)
    text_value = checks.text(text, field_path("text"), max_length=10_000, multiline=True)
    checks.raise_if_any()
    async with db.transaction() as conn:
        lead = await _locked_lead(conn, scope, lead_id)
        ensure_lead_editable(lead.stage)
        await message_rows.insert_message(
            conn,
            values={
                "tenant_id": scope.tenant_id,
                "lead_id": lead.id,
                "direction": direction,
                "channel": channel_value,
                "text": text_value,
            },
        )
        updated = await lead_rows.increment_message_count(conn, lead_id=lead.id)
        await background_scoring.queue_after_message(
            conn, scope, lead_id=lead.id, direction=direction, every=rescore_every
        )
        await _audit(conn, scope, Action.LEAD_MESSAGE_RECORDED, lead, updated)
        await events.record(
            conn,
            scope,
            EventType.LEAD_MESSAGE_RECORDED,
            lead_id=lead.id,
            data={"direction": direction, "messageCount": updated.message_count},
        )
        return updated


async def _locked_lead(conn: AsyncConnection, scope: Scope, lead_id: int) -> LeadRecord:
    """The lead, row-locked for the rest of the transaction, or NOT_FOUND."""
    lead = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead_id, for_update=True)
    if lead is None:
        raise not_found("Lead", LEAD_ID_FIELD)
    return lead


def _api_names(values: Mapping[str, object]) -> list[str]:
    return [audit.api_name(name) for name in values]


async def _audit(
    conn: AsyncConnection,
    scope: Scope,
    action: Action,
    before: LeadRecord | None,
    after: LeadRecord,
) -> None:
    await audit.record(
        conn,
        scope,
        action=action,
        entity_type=Entity.LEAD,
        entity_id=after.id,
        before=None if before is None else audit.lead_fields(before),
        after=audit.lead_fields(after),
    )
