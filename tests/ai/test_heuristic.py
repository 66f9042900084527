"""The heuristic scorer: documented weights, deterministic, bounded, explained."""

import itertools
import math
from dataclasses import replace

import pytest

from domain.enums import LeadSource, LeadStage, Recommendation
from services.ai.heuristic import (
    BASE_SCORE,
    LOST_BELOW,
    NO_ENGAGEMENT_CAP,
    STALE_AFTER_DAYS,
    TRANSFER_FROM,
    HeuristicScorer,
    assess_lead,
    recommend,
)
from services.ai.types import Assessment, ScoringInput


def lead_features(
    *,
    source: LeadSource = LeadSource.PARTNER,
    stage: LeadStage = LeadStage.QUALIFIED,
    message_count: int = 12,
    business_domain: str | None = "fintech",
    days_since_created: int = 5,
) -> ScoringInput:
    """The README's example lead, unless told otherwise."""
    return ScoringInput(
        source=source,
        stage=stage,
        message_count=message_count,
        has_business_domain=business_domain is not None,
        business_domain=business_domain,
        days_since_created=days_since_created,
    )


def factor_sum(assessment: Assessment) -> float:
    return BASE_SCORE + sum(factor.impact for factor in assessment.factors)


GRID = [
    lead_features(
        source=source,
        stage=stage,
        message_count=messages,
        business_domain=domain,
        days_since_created=days,
    )
    for source, stage, messages, domain, days in itertools.product(
        LeadSource, LeadStage, [0, 1, 3, 12, 100], [None, "fintech"], [0, 5, 30, 31, 60, 365]
    )
]


async def test_example_partner_lead_is_transferred() -> None:
    # given a qualified partner lead with 12 messages, a domain, 5 days old
    features = lead_features()

    # when the heuristic scores it
    assessment = await HeuristicScorer().score(features)

    # then it scores about 0.78 and goes to sales, for reasons it names
    assert 0.75 <= assessment.score <= 0.82
    assert assessment.recommendation is Recommendation.TRANSFER_TO_SALES
    assert assessment.scorer == "heuristic"
    assert assessment.prompt_version is None
    assert "partner source" in assessment.reason
    assert "12 messages" in assessment.reason


async def test_lead_without_messages_is_capped_below_transfer() -> None:
    # given the best possible lead in every way except that nobody has written yet
    features = lead_features(message_count=0, source=LeadSource.PARTNER, days_since_created=0)

    # when it is scored
    assessment = assess_lead(features)

    # then the cap holds it below the transfer threshold, and says why
    assert assessment.score == NO_ENGAGEMENT_CAP
    assert assessment.recommendation is not Recommendation.TRANSFER_TO_SALES
    assert "engagement_cap" in {factor.name for factor in assessment.factors}
    assert "capped at 0.55" in assessment.reason


def test_no_lead_without_messages_is_ever_transferred() -> None:
    # given every combination in the grid that has no messages
    silent = [features for features in GRID if features.message_count == 0]

    # when each is scored
    assessments = [assess_lead(features) for features in silent]

    # then none reaches the transfer threshold
    assert silent
    assert max(assessment.score for assessment in assessments) < TRANSFER_FROM
    assert all(a.recommendation is not Recommendation.TRANSFER_TO_SALES for a in assessments)


def test_cold_outreach_without_domain_or_messages_scores_low() -> None:
    # given a new cold-outreach lead with no domain and no messages
    features = lead_features(
        source=LeadSource.COLD_OUTREACH,
        stage=LeadStage.NEW,
        message_count=0,
        business_domain=None,
    )

    # when it is scored
    assessment = assess_lead(features)

    # then it scores far below the transfer threshold and is not sent to sales
    assert assessment.score < 0.25
    assert assessment.recommendation in {
        Recommendation.MARK_LOST,
        Recommendation.CONTINUE_NURTURING,
    }
    assert "cold outreach source" in assessment.reason


@pytest.mark.parametrize("features", GRID[::97])
def test_same_input_gives_same_assessment(features: ScoringInput) -> None:
    # given one input; when it is scored twice; then both answers are identical
    assert assess_lead(features) == assess_lead(replace(features))


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.0, Recommendation.MARK_LOST),
        (LOST_BELOW - 0.001, Recommendation.MARK_LOST),
        (LOST_BELOW, Recommendation.CONTINUE_NURTURING),
        (TRANSFER_FROM - 0.001, Recommendation.CONTINUE_NURTURING),
        (TRANSFER_FROM, Recommendation.TRANSFER_TO_SALES),
        (1.0, Recommendation.TRANSFER_TO_SALES),
    ],
)
def test_recommendation_thresholds(score: float, expected: Recommendation) -> None:
    # given a score; when a recommendation is derived; then it follows the thresholds
    assert recommend(score) is expected


def test_every_grid_assessment_is_bounded_and_adds_up() -> None:
    # given every combination of source, stage, messages, domain and age
    # when each is scored
    assessments = [assess_lead(features) for features in GRID]

    # then each score lies in [0, 1] with 3 decimals, its factors add up to it,
    # and its recommendation follows from it
    for assessment in assessments:
        assert 0.0 <= assessment.score <= 1.0
        assert assessment.score == round(assessment.score, 3)
        assert math.isclose(factor_sum(assessment), assessment.score, abs_tol=1e-9)
        assert assessment.recommendation is recommend(assessment.score)
        assert assessment.reason.endswith(".")


def test_worst_lead_is_floored_at_zero_and_says_so() -> None:
    # given a stale, lost cold-outreach lead with nothing going for it
    features = lead_features(
        source=LeadSource.COLD_OUTREACH,
        stage=LeadStage.LOST,
        message_count=0,
        business_domain=None,
        days_since_created=365,
    )

    # when it is scored
    assessment = assess_lead(features)

    # then it scores exactly 0 and a range factor accounts for the clamp
    assert assessment.score == 0.0
    assert assessment.recommendation is Recommendation.MARK_LOST
    assert "score_range" in {factor.name for factor in assessment.factors}
    assert math.isclose(factor_sum(assessment), 0.0, abs_tol=1e-9)


def test_engagement_has_diminishing_returns() -> None:
    # given leads that differ only in message count
    counts = [0, 4, 8, 12, 16, 24, 32, 48]

    # when each is scored
    impacts = {n: impact_of("engagement", lead_features(message_count=n)) for n in counts}

    # then every message adds something, but later messages add less than earlier ones
    per_message = [
        (impacts[later] - impacts[earlier]) / (later - earlier)
        for earlier, later in itertools.pairwise(counts)
    ]
    assert all(gain > 0 for gain in per_message)
    assert per_message == sorted(per_message, reverse=True)


@pytest.mark.parametrize(
    ("days", "penalised"),
    [(0, False), (5, False), (STALE_AFTER_DAYS, False), (STALE_AFTER_DAYS + 1, True)],
)
def test_only_stale_leads_lose_points_for_age(days: int, penalised: bool) -> None:
    # given a lead of a certain age; when it is scored; then only a stale one is penalised
    impact = impact_of("age", lead_features(days_since_created=days))
    assert (impact < 0) is penalised
    assert impact <= 0


def test_staleness_penalty_is_bounded() -> None:
    # given a lead one year old and one ten years old
    # when both are scored; then the penalty stopped growing somewhere in between
    one_year = impact_of("age", lead_features(days_since_created=365))
    ten_years = impact_of("age", lead_features(days_since_created=3650))
    assert one_year == ten_years < 0


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        (lead_features(source=LeadSource.PARTNER), lead_features(source=LeadSource.COLD_OUTREACH)),
        (lead_features(stage=LeadStage.QUALIFIED), lead_features(stage=LeadStage.NEW)),
        (lead_features(stage=LeadStage.NEW), lead_features(stage=LeadStage.LOST)),
        (lead_features(business_domain="fintech"), lead_features(business_domain=None)),
        (lead_features(message_count=12), lead_features(message_count=1)),
    ],
    ids=["source", "stage", "lost", "domain", "engagement"],
)
def test_each_signal_moves_the_score_the_right_way(
    better: ScoringInput, worse: ScoringInput
) -> None:
    # given two leads that differ in one signal; when both are scored
    # then the better one scores higher
    assert assess_lead(better).score > assess_lead(worse).score


def impact_of(factor_name: str, features: ScoringInput) -> float:
    factors = {factor.name: factor for factor in assess_lead(features).factors}
    return factors[factor_name].impact
