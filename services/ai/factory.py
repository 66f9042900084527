"""Choose the scorer the settings ask for."""

from db.database import Database
from services.ai.budget import BudgetedScorer
from services.ai.circuit import CircuitBreaker, CircuitBreakingScorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.openai_scorer import OpenAIScorer
from services.ai.types import Scorer
from settings import AISettings


def build_scorer(settings: AISettings, db: Database | None = None) -> Scorer:
    """The heuristic unless a model is configured. Then the model, within each tenant's
    budget (kept in `db`; none without one), behind a circuit breaker, and backed by the
    heuristic when `fallback_to_heuristic` is on, so scoring keeps working while the
    model is down, paused or over budget."""
    if settings.model is None:
        return HeuristicScorer()
    model: Scorer = OpenAIScorer(settings)
    if db is not None:
        model = BudgetedScorer(
            model,
            db=db,
            calls_per_minute=settings.calls_per_minute,
            tokens_per_day=settings.tokens_per_day,
        )
    breaker = CircuitBreaker(
        failures=settings.circuit_failures, open_seconds=settings.circuit_open_seconds
    )
    guarded = CircuitBreakingScorer(model, breaker)
    if not settings.fallback_to_heuristic:
        return guarded
    return FallbackScorer(guarded, HeuristicScorer())
