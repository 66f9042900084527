"""Lead.outcome and the fields of LeadOutcome that need a loader."""

from datetime import datetime

from db.records import AnalysisRecord, LeadRecord, OutcomeRecord, SaleRecord
from domain.enums import LeadStage
from resolvers.context import Info
from services.scorer_report import ScorerQuality
from services.scorer_report import scorer_report as report

# Only these stages can carry an outcome (LOST, or a transfer whose sale was paid);
# leads at any other stage skip the lookup.
_DECIDED_STAGES = frozenset({LeadStage.LOST, LeadStage.TRANSFERRED})


async def lead_outcome(root: LeadRecord, info: Info) -> OutcomeRecord | None:
    if root.stage not in _DECIDED_STAGES:
        return None
    return await info.context.loaders.outcome_by_lead.load(root.id)


def outcome_at(root: OutcomeRecord) -> datetime:
    return root.occurred_at


async def outcome_sale(root: OutcomeRecord, info: Info) -> SaleRecord | None:
    if root.sale_id is None:
        return None
    return await info.context.loaders.sale_by_id.load(root.sale_id)


async def analyses_before(root: OutcomeRecord, info: Info) -> list[AnalysisRecord]:
    return await info.context.loaders.analyses_by_outcome.load(root.id)


async def scorer_report(info: Info, held_out_only: bool) -> list[ScorerQuality]:
    app = info.context.app
    return await report(
        db=app.db,
        scope=info.context.scope,
        gate_threshold=app.settings.transfer_min_score,
        held_out_only=held_out_only,
    )
