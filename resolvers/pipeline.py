"""The pipeline figures."""

from dataclasses import dataclass
from decimal import Decimal

from db.queries import pipeline
from domain.enums import LeadStage, SaleStage
from resolvers.context import Info


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    count: int


@dataclass(frozen=True, slots=True)
class PipelineStats:
    leads_by_stage: list[StageCount]
    sales_by_stage: list[StageCount]
    transfer_rate: float | None
    average_latest_score: float | None
    paid_amount: Decimal


async def pipeline_stats(info: Info) -> PipelineStats:
    ctx = info.context
    async with ctx.app.db.read() as conn:
        figures = await pipeline.figures(conn, tenant_id=ctx.scope.tenant_id)
    leads = figures.leads_by_stage
    transferred = leads.get(LeadStage.TRANSFERRED, 0)
    closed = transferred + leads.get(LeadStage.LOST, 0)
    return PipelineStats(
        leads_by_stage=[StageCount(s.name, leads.get(s, 0)) for s in LeadStage],
        sales_by_stage=[StageCount(s.name, figures.sales_by_stage.get(s, 0)) for s in SaleStage],
        transfer_rate=transferred / closed if closed else None,
        average_latest_score=figures.average_latest_score,
        paid_amount=figures.paid_amount,
    )
