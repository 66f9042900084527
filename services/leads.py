"""Creating and editing leads, moving them through the pipeline, logging messages."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
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
# What a new lead is beyond what its creator gives: the database's defaults (db/models.py).
_NEW_LEAD_DEFAULTS = {"stage": LeadStage.NEW, "lost_reason": None, "message_count": 0, "version": 1}


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
    """Create a NEW lead. A repeated idempotency key returns the first lead, unchanged.
    One statement writes it with its first stage, audit entry and event."""
    checks = Checks()
    values = _clean_fields(checks, _new_lead_fields(new))
    key = checks.text(new.idempotency_key, field_path("idempotencyKey"), max_length=200)
    checks.raise_if_any()
    fields = {**values, "source": new.source}
    change = lead_rows.guarded_insert(
        {**fields, "tenant_id": scope.tenant_id, "idempotency_key": key}
    )
    stage_changes.record_in(
        change, from_stage=None, to_stage=LeadStage.NEW.value, actor=scope.actor, reason=None
    )
    audit.record_in(
        change,
        scope,
        action=Action.LEAD_CREATED,
        entity_type=Entity.LEAD,
        before=None,
        after={**fields, **_NEW_LEAD_DEFAULTS},
    )
    events.record_about_lead_in(
        change, EventType.LEAD_CREATED, data={"fromStage": None, "toStage": LeadStage.NEW}
    )
    async with db.autocommit() as conn:
        row = await change.run(conn)
        if row is not None:
            return lead_rows.changed_lead(row)
        # Only a taken idempotency key skips the insert; the row holding it is committed.
        existing = await lead_rows.get_by_idempotency_key(
            conn, tenant_id=scope.tenant_id, key=key or ""
        )
    if existing is None:
        raise RuntimeError("createLead skipped its insert but found no lead for the key")
    return existing


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

    def decide(lead: LeadRecord) -> Change | None:
        ensure_version(expected_version, lead.version)
        ensure_lead_editable(lead.stage)
        changed = {name: value for name, value in values.items() if getattr(lead, name) != value}
        if not changed:  # an edit to what is already there changes nothing, version included
            return None
        change = _recorded_update(scope, lead, changed, Action.LEAD_UPDATED)
        events.record_about_lead_in(
            change, EventType.LEAD_UPDATED, data={"fields": sorted(_api_names(changed))}
        )
        return change

    return await _change_lead(db, scope, lead_id, decide)


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

    def decide(lead: LeadRecord) -> Change:
        ensure_version(expected_version, lead.version)
        ensure_lead_transition(lead.stage, stage)
        values: dict[str, object] = {"stage": stage}
        if stage is LeadStage.LOST:
            values["lost_reason"] = reason
        # A LOST lead's outcome links every analysis made so far, as this statement sees
        # them: one that lands after the read (no new version) sends it to the lock.
        unchanged = ("latest_analysis_id",) if stage is LeadStage.LOST else ()
        change = _recorded_update(scope, lead, values, Action.LEAD_STAGE_CHANGED, unchanged)
        stage_changes.record_in(
            change,
            from_stage=lead.stage.value,
            to_stage=stage.value,
            actor=scope.actor,
            reason=reason,
        )
        outcomes.record_for_lead_in(change, before=lead, after=_as_updated(lead, values))
        events.record_about_lead_in(
            change, EventType.LEAD_STAGE_CHANGED, data={"fromStage": lead.stage, "toStage": stage}
        )
        return change

    return await _change_lead(db, scope, lead_id, decide)


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

    def decide(lead: LeadRecord) -> Change:
        ensure_lead_editable(lead.stage)
        # exact: the change is made only if no other one was since `lead` was read
        count = lead.message_count + 1
        change = _recorded_update(
            scope, lead, {"message_count": count}, Action.LEAD_MESSAGE_RECORDED
        )
        message_rows.insert_in(
            change, values={"direction": direction, "channel": channel_value, "text": text_value}
        )
        background_scoring.queue_after_message_in(change, direction=direction, every=rescore_every)
        events.record_about_lead_in(
            change,
            EventType.LEAD_MESSAGE_RECORDED,
            data={"direction": direction, "messageCount": count},
        )
        return change

    return await _change_lead(db, scope, lead_id, decide)


async def _change_lead(
    db: Database, scope: Scope, lead_id: int, decide: Callable[[LeadRecord], Change | None]
) -> LeadRecord:
    """Read the lead, let `decide` apply the rules and build the change (None: nothing to
    change), and make it in one statement guarded by the version read: two round trips
    on a connection already acting for the tenant. When another change came between the
    read and the write, decide again holding the lead's row lock, which no change can
    pass: a busy lead queues its changes instead of failing them."""
    async with db.autocommit() as conn:
        made = await _decide_and_make(conn, scope, lead_id, decide, lock=False)
    if made is None:
        async with db.transaction() as conn:
            made = await _decide_and_make(conn, scope, lead_id, decide, lock=True)
    if made is None:
        raise RuntimeError("a change decided under the lead's row lock lost its guard")
    return made


async def _decide_and_make(
    conn: AsyncConnection,
    scope: Scope,
    lead_id: int,
    decide: Callable[[LeadRecord], Change | None],
    *,
    lock: bool,
) -> LeadRecord | None:
    """The lead as changed (or as it is, with nothing to change); None when the guard
    found it changed since the read, so nothing was written."""
    lead = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead_id, for_update=lock)
    if lead is None:
        raise not_found("Lead", LEAD_ID_FIELD)
    change = decide(lead)
    if change is None:
        return lead
    row = await change.run(conn)
    return None if row is None else lead_rows.changed_lead(row)


def _recorded_update(
    scope: Scope,
    lead: LeadRecord,
    values: Mapping[str, object],
    action: Action,
    unchanged: Sequence[str] = (),
) -> Change:
    """The guarded update of `lead` to `values`, with its audit entry."""
    change = lead_rows.guarded_update(lead, values, unchanged=unchanged)
    audit.record_in(
        change,
        scope,
        action=action,
        entity_type=Entity.LEAD,
        before=audit.lead_fields(lead),
        after=audit.lead_fields(_as_updated(lead, values)),
    )
    return change


def _as_updated(lead: LeadRecord, values: Mapping[str, object]) -> LeadRecord:
    """`lead` as the guarded update will leave it (updated_at aside)."""
    return dataclasses.replace(lead, **values, version=lead.version + 1)  # type: ignore[arg-type]


def _api_names(values: Mapping[str, object]) -> list[str]:
    return [audit.api_name(name) for name in values]
