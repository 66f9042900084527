"""A deterministic lead scorer: documented weights, no network, always available.

    score = BASE_SCORE + source + stage + engagement + business domain + age

then capped at NO_ENGAGEMENT_CAP for a lead with no messages, kept inside [0, 1] and
rounded to 3 decimals. Each adjustment after the sum is a factor too, so the impacts of
an assessment's factors always add up with BASE_SCORE to its score.
"""

from typing import Final

from domain.enums import LeadSource, LeadStage, Recommendation
from services.ai.types import Assessment, Factor, ScoringInput

HEURISTIC_NAME: Final = "heuristic"

BASE_SCORE: Final = 0.25

# Warm introductions convert best; unsolicited outreach worst.
SOURCE_IMPACT: Final[dict[LeadSource, float]] = {
    LeadSource.PARTNER: 0.15,
    LeadSource.REFERRAL: 0.12,
    LeadSource.EVENT: 0.08,
    LeadSource.WEBSITE: 0.05,
    LeadSource.TELEGRAM: 0.02,
    LeadSource.OTHER: 0.0,
    LeadSource.COLD_OUTREACH: -0.10,
}

STAGE_IMPACT: Final[dict[LeadStage, float]] = {
    LeadStage.NEW: 0.0,
    LeadStage.CONTACTED: 0.05,
    LeadStage.QUALIFIED: 0.15,
    LeadStage.TRANSFERRED: 0.15,
    LeadStage.LOST: -0.30,
}

# Engagement earns ENGAGEMENT_MAX * n / (n + ENGAGEMENT_HALF_AT): half of it at 4 messages,
# 75% at 12; the hundredth message adds almost nothing.
ENGAGEMENT_MAX: Final = 0.25
ENGAGEMENT_HALF_AT: Final = 4

BUSINESS_DOMAIN_IMPACT: Final = 0.05

# A fresh lead is not rewarded for being fresh; a stale one loses a little per day.
STALE_AFTER_DAYS: Final = 30
STALE_PENALTY_PER_DAY: Final = 0.005
STALE_PENALTY_MAX: Final = 0.20

# Nobody should be handed to sales before a single message has been exchanged.
NO_ENGAGEMENT_CAP: Final = 0.55

TRANSFER_FROM: Final = 0.6
LOST_BELOW: Final = 0.25

REASON_TOP_FACTORS: Final = 3

ADVICE: Final = {
    Recommendation.TRANSFER_TO_SALES: "Transfer to sales",
    Recommendation.CONTINUE_NURTURING: "Keep nurturing",
    Recommendation.MARK_LOST: "Mark as lost",
}


class HeuristicScorer:
    """Scores from fixed weights; never raises ScorerUnavailable."""

    @property
    def name(self) -> str:
        return HEURISTIC_NAME

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        return assess_lead(scoring_input)

    async def aclose(self) -> None:
        """Nothing to release."""


def assess_lead(scoring_input: ScoringInput) -> Assessment:
    """Score a lead from the weights above; the same input always gives the same answer."""
    signals = _signal_factors(scoring_input)
    limits = _limit_factors(scoring_input, _total(signals))
    score = _impact(_total(signals + limits))
    recommendation = recommend(score)
    return Assessment(
        score=score,
        recommendation=recommendation,
        reason=_reason(score, recommendation, signals, limits),
        factors=tuple(signals + limits),
        scorer=HEURISTIC_NAME,
    )


def recommend(score: float) -> Recommendation:
    if score >= TRANSFER_FROM:
        return Recommendation.TRANSFER_TO_SALES
    if score < LOST_BELOW:
        return Recommendation.MARK_LOST
    return Recommendation.CONTINUE_NURTURING


def _signal_factors(scoring_input: ScoringInput) -> list[Factor]:
    return [
        _source_factor(scoring_input.source),
        _stage_factor(scoring_input.stage),
        _engagement_factor(scoring_input.message_count),
        _domain_factor(scoring_input),
        _age_factor(scoring_input.days_since_created),
    ]


def _source_factor(source: LeadSource) -> Factor:
    return Factor("source", _impact(SOURCE_IMPACT[source]), f"{_words(source.value)} source")


def _stage_factor(stage: LeadStage) -> Factor:
    return Factor("stage", _impact(STAGE_IMPACT[stage]), f"{_words(stage.value)} stage")


def _engagement_factor(message_count: int) -> Factor:
    count = max(message_count, 0)
    impact = ENGAGEMENT_MAX * count / (count + ENGAGEMENT_HALF_AT)
    note = "no messages yet" if count == 0 else f"{_plural(count, 'message')} exchanged"
    return Factor("engagement", _impact(impact), note)


def _domain_factor(scoring_input: ScoringInput) -> Factor:
    if not scoring_input.has_business_domain:
        return Factor("business_domain", 0.0, "no business domain given")
    domain = scoring_input.business_domain
    note = f"business domain {domain!r}" if domain else "business domain given"
    return Factor("business_domain", _impact(BUSINESS_DOMAIN_IMPACT), note)


def _age_factor(days_since_created: int) -> Factor:
    stale_days = max(days_since_created - STALE_AFTER_DAYS, 0)
    penalty = min(stale_days * STALE_PENALTY_PER_DAY, STALE_PENALTY_MAX)
    age = _plural(max(days_since_created, 0), "day")
    note = f"{age} old" if stale_days == 0 else f"{age} old, stale after {STALE_AFTER_DAYS}"
    return Factor("age", _impact(-penalty), note)


def _limit_factors(scoring_input: ScoringInput, raw_score: float) -> list[Factor]:
    limits: list[Factor] = []
    if scoring_input.message_count <= 0 and raw_score > NO_ENGAGEMENT_CAP:
        note = f"capped at {NO_ENGAGEMENT_CAP} until a first message is exchanged"
        limits.append(Factor("engagement_cap", _impact(NO_ENGAGEMENT_CAP - raw_score), note))
    bounded = raw_score + sum(limit.impact for limit in limits)
    if not 0.0 <= bounded <= 1.0:
        clamped = min(max(bounded, 0.0), 1.0)
        limits.append(Factor("score_range", _impact(clamped - bounded), "kept within 0..1"))
    return limits


def _reason(
    score: float, recommendation: Recommendation, signals: list[Factor], limits: list[Factor]
) -> str:
    """Name the strongest signals, then any limit that overrode them."""
    moving = [signal for signal in signals if signal.impact != 0.0]
    top = sorted(moving, key=lambda signal: (-abs(signal.impact), signal.name))
    listed = ", ".join(f"{f.note} ({f.impact:+.2f})" for f in top[:REASON_TOP_FACTORS])
    clauses = [listed or "no signal moved it from the base"]
    clauses += [limit.note or limit.name for limit in limits]
    return f"{ADVICE[recommendation]} (score {score:.2f}): {'; '.join(clauses)}."


def _total(factors: list[Factor]) -> float:
    return BASE_SCORE + sum(factor.impact for factor in factors)


def _impact(value: float) -> float:
    # `or 0.0` turns -0.0 into 0.0, so nothing ever shows as "-0.00".
    return round(value, 3) or 0.0


def _words(value: str) -> str:
    return value.replace("_", " ")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
