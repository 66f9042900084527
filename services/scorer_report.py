"""How well each scorer predicted the outcomes: the honest quality figures.

Two kinds of rows. RECORDED: each scorer judged by its own last score before every
outcome, as stored when it was asked. REPLAYED: the deterministic scorers (the heuristic,
and the newest learned model) asked now about the closed leads as each stood before it
was decided, at every stage it passed; so history brought in by an import is judged
too, and every replayed scorer is judged on the very same examples.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from db.database import Database
from db.queries import outcomes as outcome_rows
from db.queries import scorers as scorer_rows
from db.records import ScoredOutcomeRecord
from domain.outcomes import OutcomeResult, in_held_out_split
from services.ai import ScoringInput, metrics
from services.ai.heuristic import HEURISTIC_NAME
from services.ai.learned.model import LearnedModel
from services.ai.learned.scorer import learned_name
from services.ai.replay import Predict, heuristic_score, model_score, replayed_pairs
from services.scope import Scope


class ScoreBasis(Enum):
    RECORDED = "recorded"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class ScorerQuality:
    scorer: str
    basis: ScoreBasis
    outcomes: int  # scored predictions judged: outcomes (RECORDED) or examples (REPLAYED)
    wins: int
    roc_auc: float | None  # None unless there are both wins and losses
    brier_score: float
    log_loss: float
    calibration: list[metrics.CalibrationBand]
    gate: metrics.GateErrors


async def scorer_report(
    *, db: Database, scope: Scope, gate_threshold: float, held_out_only: bool = True
) -> list[ScorerQuality]:
    """Recorded rows by scorer name, then replayed ones; on the held-out split (the same
    leads for every scorer) unless `held_out_only` is off."""
    async with db.read() as conn:
        scored = await outcome_rows.scored(conn, tenant_id=scope.tenant_id)
        decided = await scorer_rows.decided_outcomes(conn, tenant_id=scope.tenant_id)
        latest = await scorer_rows.latest_model(conn, tenant_id=scope.tenant_id)
    if held_out_only:
        scored = [row for row in scored if in_held_out_split(row.lead_id)]
        decided = [row for row in decided if in_held_out_split(row.lead_id)]
    by_scorer: dict[str, list[metrics.Scored]] = defaultdict(list)
    for row in scored:
        by_scorer[row.scorer].append(_pair(row))
    recorded = [
        _quality(name, ScoreBasis.RECORDED, pairs, gate_threshold)
        for name, pairs in sorted(by_scorer.items())
    ]
    cases = [
        (ScoringInput.from_json(row.features), row.result is OutcomeResult.WIN) for row in decided
    ]
    replayable: dict[str, Predict] = {HEURISTIC_NAME: heuristic_score}
    if latest is not None and (model := _usable(latest.parameters)) is not None:
        replayable[learned_name(latest.version)] = model_score(model)
    replayed = [
        _quality(name, ScoreBasis.REPLAYED, pairs, gate_threshold)
        for name, predict in replayable.items()
        if (pairs := replayed_pairs(predict, cases))
    ]
    return recorded + replayed


def _usable(parameters: dict[str, Any]) -> LearnedModel | None:
    """The stored model, unless it was made for other features (it is then not replayed,
    as it no longer scores either: services/scorer_choice.py)."""
    try:
        return LearnedModel.from_json(parameters)
    except (KeyError, TypeError, ValueError):
        return None


def _pair(row: ScoredOutcomeRecord) -> metrics.Scored:
    return row.score, row.result is OutcomeResult.WIN


def _quality(
    scorer: str, basis: ScoreBasis, pairs: Sequence[metrics.Scored], threshold: float
) -> ScorerQuality:
    wins = sum(1 for _, won in pairs if won)
    return ScorerQuality(
        scorer=scorer,
        basis=basis,
        outcomes=len(pairs),
        wins=wins,
        roc_auc=metrics.roc_auc(pairs) if 0 < wins < len(pairs) else None,
        brier_score=metrics.brier_score(pairs),
        log_loss=metrics.log_loss(pairs),
        calibration=metrics.calibration_table(pairs),
        gate=metrics.gate_errors(pairs, threshold=threshold),
    )
