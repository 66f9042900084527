"""A per-tenant budget in front of a model: calls per minute and tokens per day.

The counts live in PostgreSQL (`ai_budgets`), so the budget holds across every server
and worker process. The tenant is the one the caller acts for (db.tenancy); without one
(a CLI task acting for nobody) no budget applies. Scoring and explaining calls draw on
the same budget: both are calls to the model.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from db.database import Database
from db.queries import ai_usage
from db.tenancy import current_tenant
from services.ai.explaining import Explainer, Explanation
from services.ai.types import Assessment, BudgetSpent, Scorer, ScoringInput
from settings import AISettings


class TokenCounts(Protocol):
    """An answer that says what the model reported using (None: nothing reported)."""

    @property
    def tokens_in(self) -> int | None: ...

    @property
    def tokens_out(self) -> int | None: ...


Answer = TypeVar("Answer", bound=TokenCounts)


class TenantBudget:
    """Lets a model call through only when the acting tenant's budget allows one more;
    charges the tokens it reports afterwards. The token check comes before the call, so
    a day's last call may pass the limit by its own tokens."""

    def __init__(self, *, db: Database, calls_per_minute: int, tokens_per_day: int) -> None:
        self._db = db
        self._calls_per_minute = calls_per_minute
        self._tokens_per_day = tokens_per_day

    @classmethod
    def from_settings(cls, settings: AISettings, db: Database) -> "TenantBudget":
        return cls(
            db=db,
            calls_per_minute=settings.calls_per_minute,
            tokens_per_day=settings.tokens_per_day,
        )

    async def spend(self, model: str, call: Callable[[], Awaitable[Answer]]) -> Answer:
        """`call()`'s answer, charged to the tenant; BudgetSpent if `model` may not be
        asked now."""
        tenant_id = current_tenant()
        if tenant_id is None:
            return await call()
        async with self._db.transaction() as conn:
            allowed = await ai_usage.reserve_call(
                conn,
                tenant_id=tenant_id,
                calls_per_minute=self._calls_per_minute,
                tokens_per_day=self._tokens_per_day,
            )
        if not allowed:
            raise BudgetSpent(f"the AI budget for {model} is spent for now")
        answer = await call()
        tokens = (answer.tokens_in or 0) + (answer.tokens_out or 0)
        if tokens:
            async with self._db.transaction() as conn:
                await ai_usage.add_tokens(conn, tenant_id=tenant_id, tokens=tokens)
        return answer


class BudgetedScorer:
    """Asks `scorer` within the tenant's budget."""

    def __init__(self, scorer: Scorer, budget: TenantBudget) -> None:
        self._scorer = scorer
        self._budget = budget

    @property
    def name(self) -> str:
        return self._scorer.name

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        return await self._budget.spend(self.name, lambda: self._scorer.score(scoring_input))

    async def aclose(self) -> None:
        await self._scorer.aclose()


class BudgetedExplainer:
    """Asks `explainer` within the tenant's budget."""

    def __init__(self, explainer: Explainer, budget: TenantBudget) -> None:
        self._explainer = explainer
        self._budget = budget

    @property
    def name(self) -> str:
        return self._explainer.name

    async def explain(self, scoring_input: ScoringInput, assessment: Assessment) -> Explanation:
        return await self._budget.spend(
            self.name, lambda: self._explainer.explain(scoring_input, assessment)
        )

    async def aclose(self) -> None:
        await self._explainer.aclose()
