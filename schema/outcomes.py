"""How a lead ended. Fields read `db.records.OutcomeRecord` rows directly."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.records import OutcomeRecord
from domain.outcomes import OutcomeOrigin, OutcomeResult
from resolvers import outcomes as resolve
from services.scorer_report import ScoreBasis

if TYPE_CHECKING:
    from schema.analyses import LeadAnalysis
    from schema.sales import Sale

_Sale = Annotated["Sale", strawberry.lazy("schema.sales")]
_LeadAnalysis = Annotated["LeadAnalysis", strawberry.lazy("schema.analyses")]

strawberry.enum(
    OutcomeResult,
    description="How a lead ended: WIN when its sale was paid, LOSS when it was marked LOST.",
)

strawberry.enum(
    OutcomeOrigin,
    description="RECORDED: by the change that decided it; IMPORTED: brought in with history.",
)


@strawberry.type(
    description=("How a lead ended, recorded when it happened: what the AI's scores are judged by.")
)
class LeadOutcome:
    result: OutcomeResult = strawberry.field(description="WIN or LOSS.")
    origin: OutcomeOrigin = strawberry.field(
        description="Recorded as it happened, or imported with historical leads."
    )
    at: datetime = strawberry.field(
        description="When the deciding change was made.", resolver=resolve.outcome_at
    )
    sale: _Sale | None = strawberry.field(
        description="The paid sale of a WIN; null for a LOSS.", resolver=resolve.outcome_sale
    )
    analyses_before: list[_LeadAnalysis] = strawberry.field(
        description="Every analysis of the lead made before the outcome, oldest first.",
        resolver=resolve.analyses_before,
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, OutcomeRecord)


@strawberry.type(description="Scores in one band: what was predicted, and what came.")
class CalibrationBand:
    low: float = strawberry.field(description="Lowest score of the band.")
    high: float = strawberry.field(
        description="Band end: scores below it (the last band includes 1.0)."
    )
    count: int = strawberry.field(description="Outcomes whose score fell in the band.")
    mean_score: float | None = strawberry.field(
        description="Mean predicted score; null for an empty band."
    )
    win_rate: float | None = strawberry.field(
        description="Share of those leads later won; null for an empty band."
    )


@strawberry.type(description="What the transfer gate would have got wrong with these scores.")
class GateErrors:
    threshold: float = strawberry.field(description="The gate's minimum score.")
    passed: int = strawberry.field(description="Leads scored at or above the threshold.")
    passed_then_lost: int = strawberry.field(description="Of those, later LOST.")
    passed_then_lost_rate: float | None = strawberry.field(
        description="passedThenLost / passed; null when none passed."
    )
    held: int = strawberry.field(description="Leads scored below the threshold.")
    held_then_won: int = strawberry.field(description="Of those, later WON.")
    held_then_won_rate: float | None = strawberry.field(
        description="heldThenWon / held; null when none was held."
    )


strawberry.enum(
    ScoreBasis,
    description=(
        "RECORDED: each scorer's own last score before each outcome, as stored then. "
        "REPLAYED: a deterministic scorer (the heuristic, the newest learned model) asked "
        "now about each closed lead as it stood before it was decided, at every stage it "
        "passed: imported history is judged too."
    ),
)


@strawberry.type(description="How well one scorer foretold the outcomes.")
class ScorerQuality:
    scorer: str = strawberry.field(description="The scorer, as analyses name it.")
    basis: ScoreBasis = strawberry.field(description="Recorded scores, or replayed ones.")
    outcomes: int = strawberry.field(
        description="Predictions judged: outcomes (RECORDED), or lead-stage examples (REPLAYED)."
    )
    wins: int = strawberry.field(description="Of those, WINs.")
    roc_auc: float | None = strawberry.field(
        description=(
            "Chance a won lead scored above a lost one (ties half); 0.5 is a coin. "
            "Null without both a win and a loss."
        )
    )
    brier_score: float = strawberry.field(
        description="Mean squared error of the score (0 perfect; 0.25 always saying 0.5)."
    )
    log_loss: float = strawberry.field(
        description="Mean negative log-likelihood (scores clipped to 1e-15..1-1e-15)."
    )
    calibration: list[CalibrationBand] = strawberry.field(
        description="Bands 0-0.2, ..., 0.8-1.0, every band listed."
    )
    gate: GateErrors = strawberry.field(description="The transfer gate's errors.")
