"""Choose the scorer the settings ask for, and the explainer that goes with it."""

from dataclasses import dataclass

from db.database import Database
from services.ai.budget import BudgetedExplainer, BudgetedScorer, TenantBudget
from services.ai.circuit import CircuitBreaker, CircuitBreakingExplainer, CircuitBreakingScorer
from services.ai.explaining import Explainer, ExplainingScorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.openai_explainer import OpenAIExplainer
from services.ai.openai_scorer import OpenAIScorer
from services.ai.types import Scorer
from settings import AISettings


@dataclass(frozen=True, slots=True)
class ModelChain:
    """The configured scorer (what `build_scorer` returns) and, when a model is
    configured, an explainer asking the same model: both within each tenant's budget and
    behind one circuit breaker, so a failing endpoint is paused for both."""

    scorer: Scorer
    explainer: Explainer | None

    def with_model_reasons(self, scorer: Scorer) -> Scorer:
        """`scorer` with the model wording its reasons; `scorer` as is without a model."""
        if self.explainer is None:
            return scorer
        return ExplainingScorer(scorer, self.explainer)

    async def aclose(self) -> None:
        await self.scorer.aclose()
        if self.explainer is not None:
            await self.explainer.aclose()


def build_scorer(settings: AISettings, db: Database | None = None) -> Scorer:
    """The heuristic unless a model is configured. Then the model, within each tenant's
    budget (kept in `db`; none without one), behind a circuit breaker, and backed by the
    heuristic when `fallback_to_heuristic` is on, so scoring keeps working while the
    model is down, paused or over budget."""
    if settings.model is None:
        return HeuristicScorer()
    return _configured(settings, _guarded_scorer(settings, db, _breaker(settings)))


def build_model_chain(settings: AISettings, db: Database | None = None) -> ModelChain:
    """`build_scorer`'s scorer, and the explainer for the same model (None without a
    model), sharing its budget and its circuit breaker."""
    if settings.model is None:
        return ModelChain(scorer=HeuristicScorer(), explainer=None)
    breaker = _breaker(settings)
    return ModelChain(
        scorer=_configured(settings, _guarded_scorer(settings, db, breaker)),
        explainer=_guarded_explainer(settings, db, breaker),
    )


def _breaker(settings: AISettings) -> CircuitBreaker:
    return CircuitBreaker(
        failures=settings.circuit_failures, open_seconds=settings.circuit_open_seconds
    )


def _guarded_scorer(
    settings: AISettings, db: Database | None, breaker: CircuitBreaker
) -> CircuitBreakingScorer:
    model: Scorer = OpenAIScorer(settings)
    if db is not None:
        model = BudgetedScorer(model, TenantBudget.from_settings(settings, db))
    return CircuitBreakingScorer(model, breaker)


def _guarded_explainer(
    settings: AISettings, db: Database | None, breaker: CircuitBreaker
) -> CircuitBreakingExplainer:
    model: Explainer = OpenAIExplainer(settings)
    if db is not None:
        model = BudgetedExplainer(model, TenantBudget.from_settings(settings, db))
    return CircuitBreakingExplainer(model, breaker)


def _configured(settings: AISettings, model: CircuitBreakingScorer) -> Scorer:
    if not settings.fallback_to_heuristic:
        return model
    return FallbackScorer(model, HeuristicScorer())
