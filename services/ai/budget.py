"""A per-tenant budget in front of a model: calls per minute and tokens per day.

The counts live in PostgreSQL (`ai_budgets`), so the budget holds across every server
and worker process. The tenant is the one the caller acts for (db.tenancy); without one
(a CLI task acting for nobody) no budget applies.
"""

from db.database import Database
from db.queries import ai_usage
from db.tenancy import current_tenant
from services.ai.types import Assessment, BudgetSpent, Scorer, ScoringInput


class BudgetedScorer:
    """Asks `scorer` only when the acting tenant's budget allows one more call; charges
    the tokens it reports afterwards. The token check comes before the call, so a day's
    last call may pass the limit by its own tokens."""

    def __init__(
        self, scorer: Scorer, *, db: Database, calls_per_minute: int, tokens_per_day: int
    ) -> None:
        self._scorer = scorer
        self._db = db
        self._calls_per_minute = calls_per_minute
        self._tokens_per_day = tokens_per_day

    @property
    def name(self) -> str:
        return self._scorer.name

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        tenant_id = current_tenant()
        if tenant_id is None:
            return await self._scorer.score(scoring_input)
        async with self._db.transaction() as conn:
            allowed = await ai_usage.reserve_call(
                conn,
                tenant_id=tenant_id,
                calls_per_minute=self._calls_per_minute,
                tokens_per_day=self._tokens_per_day,
            )
        if not allowed:
            raise BudgetSpent(f"the AI budget for {self.name} is spent for now")
        assessment = await self._scorer.score(scoring_input)
        tokens = (assessment.tokens_in or 0) + (assessment.tokens_out or 0)
        if tokens:
            async with self._db.transaction() as conn:
                await ai_usage.add_tokens(conn, tenant_id=tenant_id, tokens=tokens)
        return assessment

    async def aclose(self) -> None:
        await self._scorer.aclose()
