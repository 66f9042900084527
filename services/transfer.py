"""Handing a qualified lead to the sales team."""

from dataclasses import dataclass

from db.database import Database
from db.queries import leads as lead_rows
from db.queries import sales as sale_rows
from db.queries import stage_changes
from db.records import LeadRecord, SaleRecord
from domain.enums import LeadStage, SaleStage
from domain.errors import DomainError, Problem, not_found
from domain.events import EventType
from domain.lifecycle import ensure_version
from domain.transfer_gates import TransferCandidate, transfer_blockers
from services import audit, events
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import field_path


@dataclass(frozen=True, slots=True)
class Transfer:
    lead: LeadRecord
    sale: SaleRecord


def eligibility(lead: LeadRecord, *, min_score: float) -> list[Problem]:
    """Every gate transferLead would refuse this lead for right now (empty when eligible)."""
    return transfer_blockers(_candidate(lead), min_score)


async def transfer_lead(
    *,
    db: Database,
    scope: Scope,
    lead_id: int,
    min_score: float,
    expected_version: int | None = None,
) -> Transfer:
    """Check all gates under a row lock; the lead becomes TRANSFERRED and a NEW Sale is
    created in the same transaction, so concurrent transfers yield exactly one sale.
    The audit log gets two entries: the lead's change and the new sale."""
    async with db.transaction() as conn:
        lead = await lead_rows.get(
            conn, tenant_id=scope.tenant_id, lead_id=lead_id, for_update=True
        )
        if lead is None:
            raise not_found("Lead", field_path("leadId"))
        ensure_version(expected_version, lead.version)
        blockers = transfer_blockers(_candidate(lead), min_score)
        if blockers:
            raise DomainError(blockers)
        transferred = await lead_rows.update_lead(
            conn, lead_id=lead.id, values={"stage": LeadStage.TRANSFERRED}
        )
        sale = await sale_rows.insert_sale(conn, tenant_id=scope.tenant_id, lead_id=lead.id)
        await stage_changes.record(
            conn,
            tenant_id=scope.tenant_id,
            lead_id=lead.id,
            from_stage=lead.stage.value,
            to_stage=LeadStage.TRANSFERRED.value,
            actor=scope.actor,
        )
        await stage_changes.record(
            conn,
            tenant_id=scope.tenant_id,
            sale_id=sale.id,
            from_stage=None,
            to_stage=SaleStage.NEW.value,
            actor=scope.actor,
        )
        await audit.record(
            conn,
            scope,
            action=Action.LEAD_TRANSFERRED,
            entity_type=Entity.LEAD,
            entity_id=lead.id,
            before=audit.lead_fields(lead),
            after=audit.lead_fields(transferred),
        )
        await audit.record(
            conn,
            scope,
            action=Action.SALE_CREATED,
            entity_type=Entity.SALE,
            entity_id=sale.id,
            before=None,
            after=audit.sale_fields(sale),
        )
        await events.record(
            conn,
            scope,
            EventType.LEAD_TRANSFERRED,
            lead_id=lead.id,
            sale_id=sale.id,
            data={"fromStage": lead.stage, "toStage": transferred.stage},
        )
        await events.record(
            conn,
            scope,
            EventType.SALE_CREATED,
            lead_id=lead.id,
            sale_id=sale.id,
            data={"fromStage": None, "toStage": sale.stage},
        )
        return Transfer(lead=transferred, sale=sale)


def _candidate(lead: LeadRecord) -> TransferCandidate:
    return TransferCandidate(
        stage=lead.stage, latest_score=lead.latest_score, business_domain=lead.business_domain
    )
