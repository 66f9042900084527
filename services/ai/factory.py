"""Choose the scorer the settings ask for."""

from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.openai_scorer import OpenAIScorer
from services.ai.types import Scorer
from settings import AISettings


def build_scorer(settings: AISettings) -> Scorer:
    """The heuristic unless a model is configured; then the model, backed by the heuristic
    when `fallback_to_heuristic` is on, so scoring keeps working while the model is down."""
    if settings.model is None:
        return HeuristicScorer()
    model = OpenAIScorer(settings)
    if not settings.fallback_to_heuristic:
        return model
    return FallbackScorer(model, HeuristicScorer())
