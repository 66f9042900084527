"""db/change.py: a guarded write and its records are one statement, so they are written
together or, when the guard fails, not at all."""

from sqlalchemy import func, select

from db.change import Change
from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.queries import analyses, stage_changes
from db.queries import audit as audit_rows
from db.queries import events as event_rows
from db.queries import leads as lead_rows
from db.records import LeadRecord
from db.tenancy import acting_for
from domain.enums import LeadSource, LeadStage
from services import audit, leads
from services.leads import NewLead
from services.scope import Scope
from tests.db.rows import analysis_row

SCOPE = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests")


def _qualify(lead: LeadRecord) -> Change:
    """CONTACTED to QUALIFIED, decided on `lead` as read, with three records."""
    change = lead_rows.guarded_update(lead, {"stage": LeadStage.QUALIFIED})
    stage_changes.record_in(
        change, from_stage="contacted", to_stage="qualified", actor="tests", reason=None
    )
    audit_rows.append_in(
        change,
        values={"action": "lead.stage_changed", "entity_type": "Lead", "changes": {"stage": {}}},
    )
    event_rows.append_in(change, about="lead_id", values={"type": "lead.stage_changed", "data": {}})
    return change


async def _records(owner: Database, lead_id: int) -> tuple[int, int, int]:
    """How many stage changes, audit entries and events the lead has."""
    async with owner.read() as conn:
        counts = [
            await conn.scalar(select(func.count()).where(condition))
            for condition in (
                stage_changes.stage_changes.c.lead_id == lead_id,
                audit_rows.audit_log.c.entity_id == lead_id,
                event_rows.events.c.lead_id == lead_id,
            )
        ]
    return (counts[0] or 0, counts[1] or 0, counts[2] or 0)


async def test_a_change_writes_its_records_only_with_its_row(
    app_db: Database, owner: Database
) -> None:
    with acting_for(DEFAULT_TENANT_ID):
        # given a lead read at version 1, then moved on to version 2 by someone else
        new = NewLead(name="Guarded Lead", source=LeadSource.WEBSITE)
        read = await leads.create_lead(db=app_db, scope=SCOPE, new=new)
        moved = await leads.change_lead_stage(
            db=app_db, scope=SCOPE, lead_id=read.id, stage=LeadStage.CONTACTED
        )
        before = await _records(owner, read.id)

        # when a change decided on version 1 is sent
        async with app_db.autocommit() as conn:
            stale = await _qualify(read).run(conn)
        # then neither the lead nor any record of it is written
        assert stale is None
        assert await _records(owner, read.id) == before

        # when the same change is decided on version 2
        async with app_db.autocommit() as conn:
            row = await _qualify(moved).run(conn)
        # then the lead and each of its records are written, once
        assert row is not None
        written = lead_rows.changed_lead(row)
        assert (written.stage, written.version) == (LeadStage.QUALIFIED, 3)
        assert await _records(owner, read.id) == tuple(count + 1 for count in before)


async def test_a_guard_on_columns_that_change_without_a_version_refuses_a_changed_lead(
    app_db: Database, owner: Database
) -> None:
    with acting_for(DEFAULT_TENANT_ID):
        # given a lead read before an analysis landed (advice: no new version)
        new = NewLead(name="Analysed Meanwhile", source=LeadSource.WEBSITE)
        read = await leads.create_lead(db=app_db, scope=SCOPE, new=new)
    async with owner.transaction() as conn:
        analysis = await analyses.insert_analysis(conn, values=analysis_row(read.id, 0.3))
        await lead_rows.set_latest_analysis(
            conn, lead_id=read.id, analysis_id=analysis.id, score=0.3
        )
    lost = {"stage": LeadStage.LOST, "lost_reason": "gone quiet"}
    with acting_for(DEFAULT_TENANT_ID):
        # when a change decided on the read requires the latest analysis unchanged
        async with app_db.autocommit() as conn:
            guarded = await lead_rows.guarded_update(
                read, lost, unchanged=("latest_analysis_id",)
            ).run(conn)
            # then it is refused, though the version still matches
            assert guarded is None
            unguarded = await lead_rows.guarded_update(read, lost).run(conn)
    assert unguarded is not None


async def test_a_new_leads_audit_entry_shows_the_lead_as_the_database_made_it(
    app_db: Database, owner: Database
) -> None:
    # given a lead created with only what its creator must give
    with acting_for(DEFAULT_TENANT_ID):
        new = NewLead(name="Defaults Checked", source=LeadSource.EVENT)
        created = await leads.create_lead(db=app_db, scope=SCOPE, new=new)
    # then its entry records every field of the row as it was written
    async with owner.read() as conn:
        changes = await conn.scalar(
            select(audit_rows.audit_log.c.changes).where(
                audit_rows.audit_log.c.entity_id == created.id,
                audit_rows.audit_log.c.action == "lead.created",
            )
        )
    assert changes == audit.changed_fields({}, audit.lead_fields(created))
