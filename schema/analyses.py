"""AI analysis types. Fields read `db.records.AnalysisRecord` rows directly."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.records import AnalysisRecord
from resolvers import analyses as resolve
from schema.enums import LeadSource, LeadStage, Recommendation
from schema.node import Node, PageInfo

if TYPE_CHECKING:
    from schema.leads import Lead

_Lead = Annotated["Lead", strawberry.lazy("schema.leads")]


@strawberry.type(description="Exactly what the scorer saw: the seed's input, nothing more.")
class AnalysisInput:
    source: LeadSource = strawberry.field(description="Lead source.")
    stage: LeadStage = strawberry.field(description="Stage at the time of analysis.")
    message_count: int = strawberry.field(description="Messages recorded at the time.")
    has_business_domain: bool = strawberry.field(description="Whether a domain was set.")
    business_domain: str | None = strawberry.field(description="The business domain.")
    days_since_created: int = strawberry.field(description="Lead age in whole days.")


@strawberry.type(description="One signal that moved the score, with its signed share of it.")
class ScoreFactor:
    name: str = strawberry.field(description="Signal name, e.g. engagement.")
    impact: float = strawberry.field(description="Signed contribution to the score.")
    note: str | None = strawberry.field(description="Why it counted this way.")


@strawberry.type(description="Advisory AI assessment of a lead; it never changes the lead.")
class LeadAnalysis(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID.", resolver=resolve.analysis_global_id
    )
    lead: _Lead = strawberry.field(description="The analyzed lead.", resolver=resolve.analysis_lead)
    score: float = strawberry.field(description="0..1: how likely the lead is to buy.")
    recommendation: Recommendation = strawberry.field(description="Advised next step.")
    reason: str = strawberry.field(description="Short explanation of the advice.")
    factors: list[ScoreFactor] = strawberry.field(
        description="Signals behind the score.", resolver=resolve.factors
    )
    input: AnalysisInput = strawberry.field(
        description="Exactly what the scorer saw.", resolver=resolve.scoring_input
    )
    scorer: str = strawberry.field(
        description="Which scorer answered, e.g. heuristic, openai:<model>, learned:<version>."
    )
    prompt_version: str | None = strawberry.field(
        description="Prompt version for language-model scorers."
    )
    latency_ms: int = strawberry.field(description="How long the scorer took, in milliseconds.")
    tokens_in: int | None = strawberry.field(
        description="Prompt tokens the model reported using; null for scorers without a model."
    )
    tokens_out: int | None = strawberry.field(
        description="Answer tokens the model reported using; null for scorers without a model."
    )
    created_at: datetime = strawberry.field(description="When the analysis was made.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, AnalysisRecord)


@strawberry.type(description="An analysis in a list, with its cursor.")
class LeadAnalysisEdge:
    node: LeadAnalysis = strawberry.field(description="The analysis.")
    cursor: str = strawberry.field(description="Pass as `after` to page from here.")


@strawberry.type(description="A page of a lead's analyses.")
class LeadAnalysisConnection:
    edges: list[LeadAnalysisEdge] = strawberry.field(description="The analyses of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
