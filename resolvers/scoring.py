"""The tenant's scorer: read the choice, choose, train."""

from dataclasses import dataclass, field
from typing import Any

from db.records import ScorerModelRecord
from domain.errors import Problem
from resolvers.context import Info
from resolvers.mutations import refusals_as
from schema.scoring_inputs import ChooseScorerInput
from services import scorer_choice, scorer_training
from services.scorer_choice import ScorerChoice


@dataclass
class ScorerSettingsPayload:
    settings: ScorerChoice | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class TrainScorerPayload:
    model: ScorerModelRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FeatureWeight:
    feature: str
    weight: float


@dataclass(frozen=True, slots=True)
class HeldOutQuality:
    roc_auc: float
    brier_score: float
    log_loss: float


@dataclass(frozen=True, slots=True)
class HeldOutFigures:
    outcomes: int
    learned: HeldOutQuality | None
    heuristic: HeldOutQuality | None


async def scorer_settings(info: Info) -> ScorerChoice:
    app = info.context.app
    return await scorer_choice.scorer_choice(
        db=app.db, scope=info.context.scope, selection=app.scorers
    )


@refusals_as(ScorerSettingsPayload)
async def choose_scorer(info: Info, data: ChooseScorerInput) -> ScorerSettingsPayload:
    app = info.context.app
    choice = await scorer_choice.choose_scorer(
        db=app.db, scope=info.context.scope, selection=app.scorers, kind=data.scorer
    )
    return ScorerSettingsPayload(settings=choice)


@refusals_as(TrainScorerPayload)
async def train_scorer(info: Info, _data: None = None) -> TrainScorerPayload:
    app = info.context.app
    model = await scorer_training.train_scorer(
        db=app.db, scope=info.context.scope, min_outcomes=app.settings.ai.learned_min_outcomes
    )
    return TrainScorerPayload(model=model)


def latest_model(root: ScorerChoice) -> ScorerModelRecord | None:
    return root.latest_model


def held_out(root: ScorerModelRecord) -> HeldOutFigures | None:
    figures = root.held_out
    if figures is None:
        return None
    return HeldOutFigures(
        outcomes=int(figures["outcomes"]),
        learned=_quality(figures.get("learned")),
        heuristic=_quality(figures.get("heuristic")),
    )


def _quality(figures: dict[str, Any] | None) -> HeldOutQuality | None:
    if figures is None:
        return None
    return HeldOutQuality(
        roc_auc=figures["roc_auc"], brier_score=figures["brier_score"], log_loss=figures["log_loss"]
    )


def weights(root: ScorerModelRecord) -> list[FeatureWeight]:
    pairs = zip(
        root.parameters.get("feature_names", []),
        root.parameters.get("coefficients", []),
        strict=False,
    )
    listed = [FeatureWeight(str(name), round(float(weight), 4)) for name, weight in pairs]
    return sorted(listed, key=lambda w: (-abs(w.weight), w.feature))
