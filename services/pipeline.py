"""Figures of the whole pipeline, as a dashboard shows them."""

from dataclasses import dataclass
from decimal import Decimal

from db.database import Database
from db.queries import pipeline
from domain.enums import LeadStage, SaleStage
from services.scope import Scope


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


def transfer_rate(transferred: int, lost: int) -> float | None:
    """Of the leads that reached a final stage, the share handed to sales."""
    closed = transferred + lost
    return transferred / closed if closed else None


async def pipeline_stats(*, db: Database, scope: Scope) -> PipelineStats:
    """Counts for every stage (zeros included, in pipeline order), the transfer rate,
    the mean latest score and the amount paid."""
    async with db.read() as conn:
        figures = await pipeline.figures(conn, tenant_id=scope.tenant_id)
    leads, sales = figures.leads_by_stage, figures.sales_by_stage
    return PipelineStats(
        leads_by_stage=[StageCount(s.name, leads.get(s, 0)) for s in LeadStage],
        sales_by_stage=[StageCount(s.name, sales.get(s, 0)) for s in SaleStage],
        transfer_rate=transfer_rate(
            leads.get(LeadStage.TRANSFERRED, 0), leads.get(LeadStage.LOST, 0)
        ),
        average_latest_score=figures.average_latest_score,
        paid_amount=figures.paid_amount,
    )
