"""Choosing and training the tenant's scorer: `scorerSettings`, `chooseScorer`,
`trainScorer`. Fields read `services.scorer_choice.ScorerChoice` and
`db.records.ScorerModelRecord` directly."""

from datetime import datetime
from typing import Any

import strawberry

from db.records import ScorerModelRecord
from resolvers import scoring as resolve
from schema.enums import ScorerKind
from schema.node import UserError
from services.scorer_choice import ScorerChoice


@strawberry.type(description="How one scorer did on the held-out outcomes.")
class HeldOutQuality:
    roc_auc: float = strawberry.field(description="ROC AUC: 0.5 is a coin, 1 is perfect.")
    brier_score: float = strawberry.field(description="Mean squared error of the score.")
    log_loss: float = strawberry.field(description="Mean negative log-likelihood.")


@strawberry.type(description="A learned model and the heuristic, judged on held-out outcomes.")
class HeldOutFigures:
    outcomes: int = strawberry.field(description="Held-out closed leads judged.")
    learned: HeldOutQuality | None = strawberry.field(
        description="The learned model; null while those are all wins or all losses."
    )
    heuristic: HeldOutQuality | None = strawberry.field(
        description="The heuristic on the same leads."
    )


@strawberry.type(description="One feature's weight in a learned model.")
class FeatureWeight:
    feature: str = strawberry.field(
        description="e.g. `source:partner`, `stage:qualified`, `messages`, `age`."
    )
    weight: float = strawberry.field(
        description=(
            "Change of the log-odds of a win for one standard deviation of the feature; "
            "positive favours a win."
        )
    )


@strawberry.type(description="One trained version of this tenant's learned scorer.")
class LearnedScorerModel:
    version: int = strawberry.field(description="1 for the first training, then one more each.")
    algorithm: str = strawberry.field(description="How it was fitted: logistic_regression.")
    trained_at: datetime = strawberry.field(description="When it was trained.")
    trained_by: str | None = strawberry.field(
        description="Who asked for it; null when it was the schedule."
    )
    outcomes: int = strawberry.field(
        description="Closed leads it learned from (the held-out ones never are)."
    )
    wins: int = strawberry.field(description="Of those, WINs.")
    examples: int = strawberry.field(
        description="Training examples: each closed lead at every stage it passed."
    )
    held_out: HeldOutFigures | None = strawberry.field(
        description="The model beside the heuristic on the held-out outcomes, at training.",
        resolver=resolve.held_out,
    )
    weights: list[FeatureWeight] = strawberry.field(
        description="Each feature's weight, strongest first.", resolver=resolve.weights
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ScorerModelRecord)


@strawberry.type(description="The tenant's scorer: what it chose, and what answers now.")
class ScorerSettings:
    chosen: ScorerKind | None = strawberry.field(
        description="What the tenant chose; null: the server's default."
    )
    active: ScorerKind = strawberry.field(
        description="What answers analyses now (the choice, or the server's default)."
    )
    model_configured: bool = strawberry.field(
        description="Whether the server has a language model (needed by MODEL kinds)."
    )
    learned_model: LearnedScorerModel | None = strawberry.field(
        description="The newest learned model; null until one is trained.",
        resolver=resolve.latest_model,
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ScorerChoice)


@strawberry.type(description="Result of chooseScorer.")
class ScorerSettingsPayload:
    settings: ScorerSettings | None = strawberry.field(description="The settings after it.")
    user_errors: list[UserError] = strawberry.field(
        description="Business rules the input broke; empty on success."
    )


@strawberry.type(description="Result of trainScorer.")
class TrainScorerPayload:
    model: LearnedScorerModel | None = strawberry.field(
        description="The new model version; null when training declined (see userErrors)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_ENOUGH_OUTCOMES while there are too few closed leads to learn from."
    )
