"""Which scorer answers a tenant's analyses: the kinds a tenant may choose from."""

from enum import Enum


class ScorerKind(Enum):
    HEURISTIC = "heuristic"  # fixed, documented weights (services/ai/heuristic.py)
    MODEL = "model"  # the language model the server is configured with
    LEARNED = "learned"  # fitted on the tenant's own outcomes
    LEARNED_WITH_MODEL_REASONS = "learned_with_model_reasons"  # learned score, model's words


def needs_language_model(kind: ScorerKind) -> bool:
    return kind in (ScorerKind.MODEL, ScorerKind.LEARNED_WITH_MODEL_REASONS)
