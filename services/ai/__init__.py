"""Advisory lead scoring behind one interface.

Nothing outside this package knows whether a heuristic or a language model answered:
callers build a `ScoringInput`, call `Scorer.score`, and get an `Assessment`.
"""

from services.ai.explaining import Explainer, ExplainingScorer, Explanation
from services.ai.factory import ModelChain, build_model_chain, build_scorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.openai_scorer import OpenAIScorer
from services.ai.types import (
    Assessment,
    BudgetSpent,
    Factor,
    Scorer,
    ScorerUnavailable,
    ScoringInput,
)

__all__ = [
    "Assessment",
    "BudgetSpent",
    "Explainer",
    "ExplainingScorer",
    "Explanation",
    "Factor",
    "FallbackScorer",
    "HeuristicScorer",
    "ModelChain",
    "OpenAIScorer",
    "Scorer",
    "ScorerUnavailable",
    "ScoringInput",
    "build_model_chain",
    "build_scorer",
]
