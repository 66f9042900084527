"""Training a tenant's learned scorer on its outcomes, by request or on a schedule.

Only outcomes outside the held-out split are learned from (domain/outcomes.py); the
held-out ones judge the new model, beside the heuristic, and the figures are kept with
it. Below the minimum of outcomes training declines and stores nothing: the configured
scorer keeps answering.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from db.database import Database
from db.queries import scorers as scorer_rows
from db.records import DecidedOutcomeRecord, ScorerModelRecord
from db.tenancy import acting_for
from domain.errors import DomainError, ErrorCode
from domain.outcomes import OutcomeResult, in_held_out_split
from services import audit
from services.ai import ScoringInput
from services.ai.learned.features import OPEN_STAGES, examples_of_all
from services.ai.learned.fitting import fit
from services.ai.learned.model import ALGORITHM, LearnedModel
from services.ai.replay import heuristic_score, model_score, replayed_pairs, summary
from services.audit import Action, Entity
from services.scope import Scope

log = logging.getLogger(__name__)

# Each result needs a few examples, or there is nothing to tell apart.
MIN_PER_RESULT = 5


@dataclass(frozen=True, slots=True)
class Decided:
    lead_id: int
    features: ScoringInput
    won: bool


async def train_scorer(*, db: Database, scope: Scope, min_outcomes: int) -> ScorerModelRecord:
    """Fit and store the tenant's next model version; NOT_ENOUGH_OUTCOMES below the minimum."""
    async with db.read() as conn:
        decided = [
            _decided(row)
            for row in await scorer_rows.decided_outcomes(conn, tenant_id=scope.tenant_id)
        ]
    # Only outcomes decided at an open stage teach anything (features.examples_of).
    teaching = [d for d in decided if d.features.stage in OPEN_STAGES]
    training = [d for d in teaching if not in_held_out_split(d.lead_id)]
    held_out = [d for d in teaching if in_held_out_split(d.lead_id)]
    _ensure_enough(training, min_outcomes)
    examples = examples_of_all([(d.features, d.won) for d in training])
    model = await asyncio.to_thread(fit, examples)
    values: dict[str, object] = {
        "algorithm": ALGORITHM,
        "examples": len(examples),
        "outcomes": len(training),
        "wins": sum(1 for d in training if d.won),
        "parameters": model.as_json(),
        "held_out": _held_out_figures(held_out, model),
        "trained_by": scope.actor,
    }
    async with db.transaction() as conn:
        stored = await scorer_rows.insert_next_model(conn, tenant_id=scope.tenant_id, values=values)
        await audit.record(
            conn,
            scope,
            action=Action.SCORER_TRAINED,
            entity_type=Entity.SCORER_MODEL,
            entity_id=stored.id,
            before=None,
            after={"version": stored.version, "outcomes": stored.outcomes, "wins": stored.wins},
        )
    return stored


def _decided(row: DecidedOutcomeRecord) -> Decided:
    return Decided(
        lead_id=row.lead_id,
        features=ScoringInput.from_json(row.features),
        won=row.result is OutcomeResult.WIN,
    )


def _ensure_enough(training: Sequence[Decided], min_outcomes: int) -> None:
    wins = sum(1 for d in training if d.won)
    losses = len(training) - wins
    if len(training) >= min_outcomes and min(wins, losses) >= MIN_PER_RESULT:
        return
    raise DomainError.single(
        ErrorCode.NOT_ENOUGH_OUTCOMES,
        f"The learned scorer needs at least {min_outcomes} closed leads to learn from, "
        f"{MIN_PER_RESULT} won and {MIN_PER_RESULT} lost; there are {len(training)} "
        f"({wins} won, {losses} lost) outside the held-out split. Until then the "
        "configured scorer answers; importing history (importLeads) brings more.",
    )


def _held_out_figures(held_out: Sequence[Decided], model: LearnedModel) -> dict[str, object]:
    """How the new model and the heuristic do on the held-out outcomes (a figure is None
    while those are all wins or all losses)."""
    decided = [(d.features, d.won) for d in held_out]
    return {
        "outcomes": len(held_out),
        "learned": summary(replayed_pairs(model_score(model), decided)),
        "heuristic": summary(replayed_pairs(heuristic_score, decided)),
    }


async def train_where_due(*, owner: Database, app_db: Database, min_outcomes: int) -> list[str]:
    """The schedule's training: every tenant using a learned scorer that has closed leads
    its newest model has not seen gets a new version (or, still too few, a log line).
    `owner` lists the tenants; each one trains as itself on `app_db`."""
    async with owner.read() as conn:
        due = await scorer_rows.tenants_due_training(conn)
    done: list[str] = []
    for tenant_id in due:
        with acting_for(tenant_id):
            try:
                model = await train_scorer(
                    db=app_db, scope=Scope(tenant_id=tenant_id), min_outcomes=min_outcomes
                )
            except DomainError as declined:
                log.info("tenant %d: learned scorer not trained: %s", tenant_id, declined)
                continue
            except Exception:
                # One tenant's failure must not leave the tenants after it untrained.
                log.exception("tenant %d: training the learned scorer failed", tenant_id)
                continue
        done.append(f"tenant {tenant_id}: v{model.version} on {model.outcomes} outcomes")
    return done
