"""Carrying out a plan in the import's transaction.

Imported leads are historical facts: they are written in their final stage directly,
without walking the stage machine or applying the transfer gates. A won lead becomes
TRANSFERRED with a PAID sale and a WIN; a lost one LOST with its reason and a LOSS. The
events of every change are appended last, so the tenant's journal lock (services/
events.py) is held only for the end of the transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries import imports as import_rows
from db.queries import leads as lead_rows
from db.queries import stage_changes
from db.records import LeadRecord
from domain.enums import SaleStage
from domain.events import EventType
from domain.outcomes import OutcomeResult
from services import audit, events, outcomes
from services.events import NewEvent
from services.imports.plan import PlannedRow, Target
from services.imports.report import RowStatus
from services.imports.rows import ImportedLead
from services.scope import Scope

BATCH = 1_000  # leads inserted per statement


@dataclass(slots=True)
class _Writes:
    import_id: int
    events: list[NewEvent] = field(default_factory=list)
    fingerprints: list[tuple[str, int]] = field(default_factory=list)


async def apply_plan(
    conn: AsyncConnection, scope: Scope, planned: Sequence[PlannedRow], *, import_id: int
) -> None:
    """Write every CREATED row (in batches), then every UPDATED one in file order (an
    update may land on a lead an earlier row created), remember the fingerprints of the
    rows brought in, fill in the lead ids of the report, then append the events."""
    writes = _Writes(import_id)
    created = [row for row in planned if row.result.status is RowStatus.CREATED]
    for start in range(0, len(created), BATCH):
        await _create(conn, scope, created[start : start + BATCH], writes)
    for row in planned:
        if row.result.status is RowStatus.UPDATED:
            await _update(conn, scope, row, writes)
    for row in planned:
        _remember(row, writes)
        _fill_ids(row)
    await import_rows.remember_rows(
        conn, tenant_id=scope.tenant_id, import_id=import_id, rows=writes.fingerprints
    )
    await events.record_many(conn, scope, writes.events)


async def _create(
    conn: AsyncConnection, scope: Scope, rows: Sequence[PlannedRow], writes: _Writes
) -> None:
    leads = [_parts(row)[0] for row in rows]
    records = await import_rows.insert_leads(
        conn, rows=[_lead_values(scope, lead) for lead in leads]
    )
    for row, record in zip(rows, records, strict=True):
        _parts(row)[1].lead_id = record.id
    await import_rows.record_stage_changes(
        conn,
        rows=[
            _stage_change(
                scope, lead_id=record.id, to_stage=record.stage.value, reason=lead.lost_reason
            )
            for lead, record in zip(leads, records, strict=True)
        ],
    )
    sales = await _paid_sales(conn, scope, list(zip(leads, records, strict=True)))
    for lead, record in zip(leads, records, strict=True):
        sale_id = sales.get(record.id)
        if lead.outcome is not None and lead.closed_at is not None:
            await outcomes.record_imported(
                conn,
                scope,
                lead_id=record.id,
                sale_id=sale_id,
                result=lead.outcome,
                occurred_at=lead.closed_at,
                features=lead.features(),
            )
        _created_events(writes, record, sale_id)


def _lead_values(scope: Scope, lead: ImportedLead) -> dict[str, object]:
    return {
        "tenant_id": scope.tenant_id,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "business_domain": lead.business_domain,
        "source": lead.source,
        "stage": lead.stage,
        "lost_reason": lead.lost_reason,
        "message_count": lead.message_count,
        "created_at": lead.created_at,
        "updated_at": lead.closed_at or lead.created_at,
    }


def _stage_change(
    scope: Scope,
    *,
    to_stage: str,
    from_stage: str | None = None,
    reason: str | None = None,
    lead_id: int | None = None,
    sale_id: int | None = None,
) -> dict[str, object]:
    return {
        "tenant_id": scope.tenant_id,
        "lead_id": lead_id,
        "sale_id": sale_id,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "actor": scope.actor,
        "reason": reason,
    }


async def _paid_sales(
    conn: AsyncConnection, scope: Scope, created: list[tuple[ImportedLead, LeadRecord]]
) -> dict[int, int]:
    """The PAID sale of each won lead: lead id -> sale id."""
    won = [(lead, record) for lead, record in created if lead.outcome is OutcomeResult.WIN]
    sales = await import_rows.insert_paid_sales(
        conn,
        rows=[
            {
                "tenant_id": scope.tenant_id,
                "lead_id": record.id,
                "amount": lead.amount,
                "currency": lead.currency,
                "paid_at": lead.closed_at,
            }
            for lead, record in won
        ],
    )
    await import_rows.record_stage_changes(
        conn,
        rows=[_stage_change(scope, sale_id=sale.id, to_stage=sale.stage.value) for sale in sales],
    )
    return {sale.lead_id: sale.id for sale in sales}


def _created_events(writes: _Writes, record: LeadRecord, sale_id: int | None) -> None:
    created = {"fromStage": None, "toStage": record.stage, "importId": writes.import_id}
    writes.events.append(NewEvent(EventType.LEAD_CREATED, lead_id=record.id, data=created))
    if sale_id is not None:
        paid = {"fromStage": None, "toStage": SaleStage.PAID, "importId": writes.import_id}
        writes.events.append(
            NewEvent(EventType.SALE_CREATED, lead_id=record.id, sale_id=sale_id, data=paid)
        )


async def _update(conn: AsyncConnection, scope: Scope, row: PlannedRow, writes: _Writes) -> None:
    _, target = _parts(row)
    assert target.lead_id is not None, "a lead is created before a later row updates it"
    values: dict[str, object] = dict(row.changes)
    if row.stage_to is not None:
        values["stage"] = row.stage_to
    updated = await lead_rows.update_lead(conn, lead_id=target.lead_id, values=values)
    if row.changes:
        fields = sorted(audit.api_name(name) for name in row.changes)
        data = {"fields": fields, "importId": writes.import_id}
        writes.events.append(NewEvent(EventType.LEAD_UPDATED, lead_id=updated.id, data=data))
    if row.stage_to is not None:
        await _moved(conn, scope, row, updated.id, writes)


async def _moved(
    conn: AsyncConnection, scope: Scope, row: PlannedRow, lead_id: int, writes: _Writes
) -> None:
    assert row.stage_from is not None
    assert row.stage_to is not None
    await stage_changes.record(
        conn,
        tenant_id=scope.tenant_id,
        lead_id=lead_id,
        from_stage=row.stage_from.value,
        to_stage=row.stage_to.value,
        actor=scope.actor,
    )
    data = {"fromStage": row.stage_from, "toStage": row.stage_to, "importId": writes.import_id}
    writes.events.append(NewEvent(EventType.LEAD_STAGE_CHANGED, lead_id=lead_id, data=data))


def _remember(row: PlannedRow, writes: _Writes) -> None:
    if row.records_fingerprint and row.lead is not None and row.target is not None:
        assert row.target.lead_id is not None
        writes.fingerprints.append((row.lead.fingerprint, row.target.lead_id))


def _fill_ids(row: PlannedRow) -> None:
    """Rows on a lead this run created learn its id once it is written."""
    if row.target is None:
        return
    if row.result.status in (RowStatus.CREATED, RowStatus.UPDATED, RowStatus.UNCHANGED):
        row.result.lead_id = row.target.lead_id
    else:
        row.result.matched_lead_id = row.target.lead_id


def _parts(row: PlannedRow) -> tuple[ImportedLead, Target]:
    assert row.lead is not None
    assert row.target is not None
    return row.lead, row.target
