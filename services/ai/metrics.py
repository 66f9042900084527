"""How good a scorer's scores were, judged against what then happened.

Pure functions over (score, won) pairs: a score is the predicted chance of a win, `won`
is the lead's outcome (True for a WIN, False for a LOSS). Nothing here reads the
database; the scorer report gathers the pairs and hands them in.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# A scored outcome: the score an analysis gave, and whether the lead was later won.
Scored = tuple[float, bool]

TRANSFER_GATE = 0.6  # the default of settings.transfer_min_score, the transfer gate
# Log loss of a score of exactly 0 or 1 that turned out wrong would be infinite; one
# confidently wrong case must weigh heavily, not drown every other figure.
LOG_LOSS_EPSILON = 1e-15
BAND_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


class NotEnoughOutcomes(ValueError):
    """The figure is undefined for these pairs (none at all, or only one class)."""


def roc_auc(pairs: Sequence[Scored]) -> float:
    """The chance that a random won lead scored above a random lost one; a tie counts half.

    Computed from average ranks (Mann-Whitney U), so tied scores share their rank.
    """
    wins = sum(1 for _, won in pairs if won)
    losses = len(pairs) - wins
    if wins == 0 or losses == 0:
        raise NotEnoughOutcomes("ROC AUC needs at least one win and one loss")
    ranks = _average_ranks(pairs)
    rank_sum_of_wins = sum(rank for rank, (_, won) in zip(ranks, pairs, strict=True) if won)
    u_statistic = rank_sum_of_wins - wins * (wins + 1) / 2
    return u_statistic / (wins * losses)


def _average_ranks(pairs: Sequence[Scored]) -> list[float]:
    """1-based ranks of the scores, ascending; tied scores get the mean of their ranks."""
    order = sorted(range(len(pairs)), key=lambda i: pairs[i][0])
    ranks = [0.0] * len(pairs)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and pairs[order[end + 1]][0] == pairs[order[start]][0]:
            end += 1
        shared = (start + end) / 2 + 1  # mean of the 1-based ranks start+1 .. end+1
        for position in range(start, end + 1):
            ranks[order[position]] = shared
        start = end + 1
    return ranks


def brier_score(pairs: Sequence[Scored]) -> float:
    """Mean squared distance between score and outcome (0 perfect, 0.25 a coin at 0.5)."""
    _require_some(pairs)
    return sum((score - float(won)) ** 2 for score, won in pairs) / len(pairs)


def log_loss(pairs: Sequence[Scored], *, epsilon: float = LOG_LOSS_EPSILON) -> float:
    """Mean negative log-likelihood of the outcomes, scores clipped to [eps, 1 - eps]."""
    _require_some(pairs)
    total = 0.0
    for score, won in pairs:
        p = min(max(score, epsilon), 1.0 - epsilon)
        total -= math.log(p) if won else math.log(1.0 - p)
    return total / len(pairs)


@dataclass(frozen=True, slots=True)
class CalibrationBand:
    """Scores in [low, high) (the last band includes 1.0): what was predicted, what came."""

    low: float
    high: float
    count: int
    mean_score: float | None  # None for an empty band
    win_rate: float | None


def calibration_table(pairs: Sequence[Scored]) -> list[CalibrationBand]:
    """Five bands 0-0.2 ... 0.8-1.0; a calibrated scorer's mean score matches its win rate."""
    bands: list[list[Scored]] = [[] for _ in BAND_EDGES[1:]]
    for score, won in pairs:
        bands[_band_index(score)].append((score, won))
    return [
        _band(low, high, members)
        for low, high, members in zip(BAND_EDGES[:-1], BAND_EDGES[1:], bands, strict=True)
    ]


def _band_index(score: float) -> int:
    for index, high in enumerate(BAND_EDGES[1:-1]):
        if score < high:
            return index
    return len(BAND_EDGES) - 2


def _band(low: float, high: float, members: list[Scored]) -> CalibrationBand:
    if not members:
        return CalibrationBand(low, high, 0, None, None)
    count = len(members)
    return CalibrationBand(
        low=low,
        high=high,
        count=count,
        mean_score=sum(score for score, _ in members) / count,
        win_rate=sum(1 for _, won in members if won) / count,
    )


@dataclass(frozen=True, slots=True)
class GateErrors:
    """What the transfer gate would have done wrong with these scores."""

    threshold: float
    passed_then_lost: int  # score >= threshold, lead later LOST
    passed: int
    held_then_won: int  # score < threshold, lead later WON
    held: int

    @property
    def passed_then_lost_rate(self) -> float | None:
        """Of the leads the gate let through, the share later lost."""
        return self.passed_then_lost / self.passed if self.passed else None

    @property
    def held_then_won_rate(self) -> float | None:
        """Of the leads the gate held back, the share later won."""
        return self.held_then_won / self.held if self.held else None


def gate_errors(pairs: Sequence[Scored], *, threshold: float = TRANSFER_GATE) -> GateErrors:
    """Count the later-lost leads a gate at `threshold` lets through and the later-won it holds."""
    passed = [won for score, won in pairs if score >= threshold]
    held = [won for score, won in pairs if score < threshold]
    return GateErrors(
        threshold=threshold,
        passed_then_lost=sum(1 for won in passed if not won),
        passed=len(passed),
        held_then_won=sum(1 for won in held if won),
        held=len(held),
    )


def _require_some(pairs: Sequence[Scored]) -> None:
    if not pairs:
        raise NotEnoughOutcomes("no scored outcomes")
