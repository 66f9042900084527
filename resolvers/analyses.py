"""Fields of LeadAnalysis."""

from db.records import AnalysisRecord, LeadRecord
from domain.global_ids import to_global_id
from resolvers.context import Info
from services.ai import Factor, ScoringInput


def analysis_global_id(root: AnalysisRecord) -> str:
    return to_global_id("LeadAnalysis", root.id)


async def analysis_lead(root: AnalysisRecord, info: Info) -> LeadRecord:
    lead = await info.context.loaders.lead_by_id.load(root.lead_id)
    assert lead is not None, "an analysis always belongs to a lead of its tenant"
    return lead


def factors(root: AnalysisRecord) -> list[Factor]:
    return [Factor(name=f["name"], impact=f["impact"], note=f.get("note")) for f in root.factors]


def scoring_input(root: AnalysisRecord) -> ScoringInput:
    return ScoringInput.from_json(root.input)
