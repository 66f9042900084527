"""Which scorer answers a tenant's analyses, chosen by the tenant and read at each one,
so a switch takes effect at once in every process, with no restart.

HEURISTIC and MODEL are the server's scorers (MODEL: the configured language model,
behind its budget, circuit breaker and fallback). LEARNED scores with the tenant's newest
trained model; while there is none (cold start), the configured scorer answers, marked as
a fallback. LEARNED_WITH_MODEL_REASONS lets the language model word the learned score's
reason. A tenant that chose nothing gets the configured scorer: MODEL when the server
has one, else HEURISTIC.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import scorers as scorer_rows
from db.records import ScorerModelRecord
from domain.errors import DomainError, ErrorCode
from domain.scorers import ScorerKind, needs_language_model
from services import audit
from services.ai import HeuristicScorer, Scorer, build_model_chain
from services.ai.learned.model import LearnedModel
from services.ai.learned.scorer import ColdStartScorer, LearnedScorer, StoredModel
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import field_path
from settings import AISettings

log = logging.getLogger(__name__)


class ScorerSource(Protocol):
    async def for_tenant(self, conn: AsyncConnection, tenant_id: int) -> Scorer:
        """The scorer that answers the tenant's analyses now."""
        ...


@dataclass(frozen=True, slots=True)
class Fixed:
    """One scorer for every tenant (the demo data, tests)."""

    scorer: Scorer

    async def for_tenant(self, conn: AsyncConnection, tenant_id: int) -> Scorer:
        return self.scorer


class ScorerSelection:
    """The server's scorers, and each tenant's choice among them."""

    def __init__(self, settings: AISettings, db: Database) -> None:
        self.model_configured = settings.model is not None
        self.default_kind = ScorerKind.MODEL if self.model_configured else ScorerKind.HEURISTIC
        self._chain = build_model_chain(settings, db)  # one breaker and budget for both uses
        self._configured = self._chain.scorer
        self._heuristic = HeuristicScorer()
        self._models: dict[int, tuple[int, LearnedScorer]] = {}  # tenant → (model id, scorer)

    async def for_tenant(self, conn: AsyncConnection, tenant_id: int) -> Scorer:
        kind = await scorer_rows.chosen_kind(conn, tenant_id=tenant_id) or self.default_kind
        if kind is ScorerKind.HEURISTIC:
            return self._heuristic
        if kind is ScorerKind.MODEL:
            return self._configured
        learned = await self._learned(conn, tenant_id)
        if isinstance(learned, ColdStartScorer):
            return learned  # the configured scorer's own words; nothing learned to explain
        if kind is ScorerKind.LEARNED_WITH_MODEL_REASONS:
            return self._chain.with_model_reasons(learned)
        return learned

    async def _learned(self, conn: AsyncConnection, tenant_id: int) -> Scorer:
        stored = await scorer_rows.latest_model(conn, tenant_id=tenant_id)
        if stored is None:
            return ColdStartScorer(self._configured, "no learned model has been trained yet")
        cached = self._models.get(tenant_id)
        if cached is not None and cached[0] == stored.id:
            return cached[1]
        try:
            scorer = LearnedScorer(stored_model(stored))
        except (KeyError, TypeError, ValueError) as error:
            why = f"learned model v{stored.version} cannot be used: {error}"
            log.warning("tenant %d: %s", tenant_id, why)
            return ColdStartScorer(self._configured, why)
        self._models[tenant_id] = (stored.id, scorer)
        return scorer

    async def aclose(self) -> None:
        await self._chain.aclose()


def stored_model(record: ScorerModelRecord) -> StoredModel:
    return StoredModel(
        version=record.version,
        outcomes=record.outcomes,
        model=LearnedModel.from_json(record.parameters),
    )


@dataclass(frozen=True, slots=True)
class ScorerChoice:
    chosen: ScorerKind | None  # None: the server's default
    active: ScorerKind
    model_configured: bool
    latest_model: ScorerModelRecord | None


async def scorer_choice(*, db: Database, scope: Scope, selection: ScorerSelection) -> ScorerChoice:
    async with db.read() as conn:
        chosen = await scorer_rows.chosen_kind(conn, tenant_id=scope.tenant_id)
        latest = await scorer_rows.latest_model(conn, tenant_id=scope.tenant_id)
    return ScorerChoice(
        chosen=chosen,
        active=chosen or selection.default_kind,
        model_configured=selection.model_configured,
        latest_model=latest,
    )


async def choose_scorer(
    *, db: Database, scope: Scope, selection: ScorerSelection, kind: ScorerKind
) -> ScorerChoice:
    """The tenant's scorer from the next analysis on. A kind that needs a language model
    is refused while the server has none; LEARNED before any training is allowed (the
    configured scorer answers until a model exists)."""
    if needs_language_model(kind) and not selection.model_configured:
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED,
            f"{kind.name} needs a language model, and this server has none configured "
            "(CRM_AI_MODEL).",
            field_path("scorer"),
        )
    async with db.transaction() as conn:
        before = await scorer_rows.chosen_kind(conn, tenant_id=scope.tenant_id)
        await scorer_rows.choose_kind(conn, tenant_id=scope.tenant_id, kind=kind, actor=scope.actor)
        await audit.record(
            conn,
            scope,
            action=Action.SCORER_CHOSEN,
            entity_type=Entity.SCORER_SETTINGS,
            entity_id=scope.tenant_id,
            before=None if before is None else {"scorer": before.value},
            after={"scorer": kind.value},
        )
    return await scorer_choice(db=db, scope=scope, selection=selection)
