"""Recording how leads end, in the transaction of the change that ends them.

The scorer report judges each scorer by (analysis score, outcome) pairs; an outcome is
therefore linked, when it is recorded, to every analysis of its lead made up to then.
The learned scorer learns from the lead's scoring input as it stood just before the
deciding change, kept with the outcome (`features`).
"""

import dataclasses
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
from db.queries import leads as lead_rows
from db.queries import outcomes as outcome_rows
from db.records import LeadRecord, OutcomeRecord, SaleRecord
from domain.outcomes import (
    WON_FROM_STAGE,
    OutcomeOrigin,
    OutcomeResult,
    outcome_of_lead_stage,
    outcome_of_sale_stage,
)
from services.ai import ScoringInput
from services.analysis import scoring_input
from services.scope import Scope


def record_for_lead_in(change: Change, *, before: LeadRecord, after: LeadRecord) -> None:
    """A lead that `change` makes LOST gets its LOSS, decided on the lead as it was
    `before`, written by the change's own statement; any other stage records nothing."""
    result = outcome_of_lead_stage(after.stage)
    if result is not None:
        features = scoring_input(before, now=datetime.now(UTC))
        outcome_rows.insert_in(change, values=_values(result, features))


async def record_for_sale(
    conn: AsyncConnection, scope: Scope, *, sale: SaleRecord
) -> OutcomeRecord | None:
    """A sale that has just been PAID gives its lead a WIN, decided on the lead as it was
    when transferred (its stage then: WON_FROM_STAGE); earlier steps record nothing."""
    result = outcome_of_sale_stage(sale.stage)
    if result is None:
        return None
    lead = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=sale.lead_id)
    features = None
    if lead is not None:
        # As at the transfer (when the sale was made): the time the sale took after it
        # happened because the lead was won, and must not teach that age wins.
        as_transferred = dataclasses.replace(lead, stage=WON_FROM_STAGE)
        features = scoring_input(as_transferred, now=sale.created_at)
    return await _record(
        conn, scope, lead_id=sale.lead_id, sale_id=sale.id, result=result, features=features
    )


async def record_imported(
    conn: AsyncConnection,
    scope: Scope,
    *,
    lead_id: int,
    sale_id: int | None,
    result: OutcomeResult,
    occurred_at: datetime,
    features: ScoringInput,
) -> OutcomeRecord:
    """An outcome brought in with a historical lead: `features` are the lead as it stood
    before it was decided (the stage it was lost at, or WON_FROM_STAGE for a win)."""
    return await _record(
        conn,
        scope,
        lead_id=lead_id,
        sale_id=sale_id,
        result=result,
        features=features,
        origin=OutcomeOrigin.IMPORTED,
        occurred_at=occurred_at,
    )


async def _record(
    conn: AsyncConnection,
    scope: Scope,
    *,
    lead_id: int,
    sale_id: int | None,
    result: OutcomeResult,
    features: ScoringInput | None,
    origin: OutcomeOrigin = OutcomeOrigin.RECORDED,
    occurred_at: datetime | None = None,
) -> OutcomeRecord:
    # LOST and PAID are final and the caller holds the deciding row's lock, so a second
    # outcome for the lead cannot arise; the unique lead_id would refuse one anyway.
    values = {
        **_values(result, features, origin),
        "tenant_id": scope.tenant_id,
        "lead_id": lead_id,
        "sale_id": sale_id,
    }
    if occurred_at is not None:
        values["occurred_at"] = occurred_at
    outcome = await outcome_rows.insert_outcome(conn, values=values)
    await outcome_rows.link_analyses_so_far(conn, outcome=outcome)
    return outcome


def _values(
    result: OutcomeResult,
    features: ScoringInput | None,
    origin: OutcomeOrigin = OutcomeOrigin.RECORDED,
) -> dict[str, object]:
    return {
        "result": result,
        "features": None if features is None else features.as_json(),
        "origin": origin,
    }
