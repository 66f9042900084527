"""How well each scorer predicted the outcomes: the honest quality figures."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from db.database import Database
from db.queries import outcomes as outcome_rows
from db.records import ScoredOutcomeRecord
from domain.outcomes import OutcomeResult, in_held_out_split
from services.ai import metrics
from services.scope import Scope


@dataclass(frozen=True, slots=True)
class ScorerQuality:
    scorer: str
    outcomes: int
    wins: int
    roc_auc: float | None  # None unless there are both wins and losses
    brier_score: float
    log_loss: float
    calibration: list[metrics.CalibrationBand]
    gate: metrics.GateErrors


async def scorer_report(
    *, db: Database, scope: Scope, gate_threshold: float, held_out_only: bool = True
) -> list[ScorerQuality]:
    """Each scorer judged by its last score before every outcome, on the held-out split
    (the same leads for every scorer) unless `held_out_only` is off; by scorer name."""
    async with db.read() as conn:
        scored = await outcome_rows.scored(conn, tenant_id=scope.tenant_id)
    if held_out_only:
        scored = [row for row in scored if in_held_out_split(row.lead_id)]
    by_scorer: dict[str, list[metrics.Scored]] = defaultdict(list)
    for row in scored:
        by_scorer[row.scorer].append(_pair(row))
    return [_quality(name, pairs, gate_threshold) for name, pairs in sorted(by_scorer.items())]


def _pair(row: ScoredOutcomeRecord) -> metrics.Scored:
    return row.score, row.result is OutcomeResult.WIN


def _quality(scorer: str, pairs: Sequence[metrics.Scored], threshold: float) -> ScorerQuality:
    wins = sum(1 for _, won in pairs if won)
    return ScorerQuality(
        scorer=scorer,
        outcomes=len(pairs),
        wins=wins,
        roc_auc=metrics.roc_auc(pairs) if 0 < wins < len(pairs) else None,
        brier_score=metrics.brier_score(pairs),
        log_loss=metrics.log_loss(pairs),
        calibration=metrics.calibration_table(pairs),
        gate=metrics.gate_errors(pairs, threshold=threshold),
    )
