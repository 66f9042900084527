"""What a deterministic scorer would have said about closed leads: judging the heuristic
and a learned model on the same held-out outcomes, whether or not they ever scored them.

Each closed lead is asked about at every stage it passed (services/ai/learned/features.py),
the same examples a learned scorer learns from, so both are judged alike.
"""

from collections.abc import Callable, Sequence

from services.ai import metrics
from services.ai.heuristic import assess_lead
from services.ai.learned.features import examples_of_all
from services.ai.learned.model import LearnedModel
from services.ai.types import ScoringInput

Predict = Callable[[ScoringInput], float]


def heuristic_score(scoring_input: ScoringInput) -> float:
    return assess_lead(scoring_input).score


def model_score(model: LearnedModel) -> Predict:
    return lambda scoring_input: round(model.probability(scoring_input), 3)


def replayed_pairs(
    predict: Predict, decided: Sequence[tuple[ScoringInput, bool]]
) -> list[metrics.Scored]:
    return [(predict(e.features), e.won) for e in examples_of_all(decided)]


def summary(pairs: Sequence[metrics.Scored]) -> dict[str, float] | None:
    """ROC AUC, Brier score and log loss; None unless there are both wins and losses."""
    wins = sum(1 for _, won in pairs if won)
    if not 0 < wins < len(pairs):
        return None
    return {
        "roc_auc": round(metrics.roc_auc(pairs), 4),
        "brier_score": round(metrics.brier_score(pairs), 4),
        "log_loss": round(metrics.log_loss(pairs), 4),
    }
