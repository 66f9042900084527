"""Aggregate figures of the pipeline: two grouped scans, one per table."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Lead, Sale, table
from domain.enums import LeadStage, SaleStage

leads, sales = table(Lead), table(Sale)


@dataclass(frozen=True, slots=True)
class PipelineFigures:
    leads_by_stage: dict[LeadStage, int]
    sales_by_stage: dict[SaleStage, int]
    average_latest_score: float | None
    paid_amount: Decimal


async def figures(conn: AsyncConnection, *, tenant_id: int) -> PipelineFigures:
    lead_rows = await conn.execute(
        select(
            leads.c.stage,
            func.count(),
            func.coalesce(func.sum(leads.c.latest_score), 0.0),
            func.count(leads.c.latest_score),
        )
        .where(leads.c.tenant_id == tenant_id)
        .group_by(leads.c.stage)
    )
    leads_by_stage: dict[LeadStage, int] = {}
    score_total, scored = 0.0, 0
    for stage, count, stage_score_total, stage_scored in lead_rows:
        leads_by_stage[stage] = count
        score_total += stage_score_total
        scored += stage_scored
    sale_rows = await conn.execute(
        select(sales.c.stage, func.count(), func.coalesce(func.sum(sales.c.amount), 0))
        .where(sales.c.tenant_id == tenant_id)
        .group_by(sales.c.stage)
    )
    sales_by_stage: dict[SaleStage, int] = {}
    paid_amount = Decimal("0.00")
    for stage, count, amount in sale_rows:
        sales_by_stage[stage] = count
        if stage is SaleStage.PAID:
            paid_amount = Decimal(amount).quantize(Decimal("0.01"))
    return PipelineFigures(
        leads_by_stage=leads_by_stage,
        sales_by_stage=sales_by_stage,
        average_latest_score=score_total / scored if scored else None,
        paid_amount=paid_amount,
    )
