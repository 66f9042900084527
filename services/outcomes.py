"""Recording how leads end, in the transaction of the change that ends them.

The learned scorer and the scorer report learn from (analysis score, scorer, outcome)
pairs; an outcome is therefore linked, when it is recorded, to every analysis of its
lead made up to then.
"""

from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries import outcomes as outcome_rows
from db.records import LeadRecord, OutcomeRecord, SaleRecord
from domain.outcomes import OutcomeResult, outcome_of_lead_stage, outcome_of_sale_stage
from services.scope import Scope


async def record_for_lead(
    conn: AsyncConnection, scope: Scope, *, lead: LeadRecord
) -> OutcomeRecord | None:
    """A lead that has just become LOST gets its LOSS; any other stage records nothing."""
    result = outcome_of_lead_stage(lead.stage)
    if result is None:
        return None
    return await _record(conn, scope, lead_id=lead.id, sale_id=None, result=result)


async def record_for_sale(
    conn: AsyncConnection, scope: Scope, *, sale: SaleRecord
) -> OutcomeRecord | None:
    """A sale that has just been PAID gives its lead a WIN; earlier steps record nothing."""
    result = outcome_of_sale_stage(sale.stage)
    if result is None:
        return None
    return await _record(conn, scope, lead_id=sale.lead_id, sale_id=sale.id, result=result)


async def _record(
    conn: AsyncConnection,
    scope: Scope,
    *,
    lead_id: int,
    sale_id: int | None,
    result: OutcomeResult,
) -> OutcomeRecord:
    # LOST and PAID are final and the caller holds the deciding row's lock, so a second
    # outcome for the lead cannot arise; the unique lead_id would refuse one anyway.
    outcome = await outcome_rows.insert_outcome(
        conn,
        values={
            "tenant_id": scope.tenant_id,
            "lead_id": lead_id,
            "sale_id": sale_id,
            "result": result,
        },
    )
    await outcome_rows.link_analyses_so_far(conn, outcome=outcome)
    return outcome
