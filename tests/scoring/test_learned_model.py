"""The learned scorer's arithmetic, fitting and factors, without a database."""

import dataclasses

import pytest

from domain.enums import LeadSource, LeadStage
from domain.outcomes import in_held_out_split
from services.ai import HeuristicScorer, ScoringInput
from services.ai.learned.features import FEATURE_NAMES, examples_of, examples_of_all, vector
from services.ai.learned.fitting import fit
from services.ai.learned.model import LearnedModel, logistic
from services.ai.learned.scorer import ColdStartScorer, LearnedScorer, StoredModel
from services.ai.replay import heuristic_score, model_score, replayed_pairs, summary
from tests.scoring.synthetic import closed_leads

LEAD = ScoringInput(
    source=LeadSource.COLD_OUTREACH,
    stage=LeadStage.CONTACTED,
    message_count=3,
    has_business_domain=True,
    business_domain="fintech",
    days_since_created=10,
)

Cases = list[tuple[ScoringInput, bool]]


def _split(count: int = 1500) -> tuple[Cases, Cases]:
    leads = list(closed_leads(count))
    training = [(c.decided_at, c.won) for c in leads if not in_held_out_split(c.number)]
    held_out = [(c.decided_at, c.won) for c in leads if in_held_out_split(c.number)]
    return training, held_out


def test_a_closed_lead_teaches_at_every_stage_it_passed() -> None:
    # a lead lost at CONTACTED was a NEW lead that was lost, too
    lost = examples_of(LEAD, won=False)
    assert [(e.features.stage, e.won) for e in lost] == [
        (LeadStage.NEW, False),
        (LeadStage.CONTACTED, False),
    ]
    # a won lead (decided at QUALIFIED) won from every open stage
    won = examples_of(dataclasses.replace(LEAD, stage=LeadStage.QUALIFIED), won=True)
    assert [e.features.stage for e in won] == [
        LeadStage.NEW,
        LeadStage.CONTACTED,
        LeadStage.QUALIFIED,
    ]
    # the other features are the lead's own at every stage
    assert {e.features.source for e in won} == {LeadSource.COLD_OUTREACH}
    # a final stage teaches nothing (nothing is known of the lead before it)
    assert examples_of(dataclasses.replace(LEAD, stage=LeadStage.LOST), won=False) == []


def test_the_features_are_named_one_for_one() -> None:
    values = vector(LEAD)
    assert len(values) == len(FEATURE_NAMES)
    named = dict(zip(FEATURE_NAMES, values, strict=True))
    assert named["source:cold_outreach"] == 1.0
    assert named["source:partner"] == 0.0
    assert named["stage:contacted"] == 1.0
    assert named["business_domain"] == 1.0
    assert named["messages"] == pytest.approx(1.386, abs=1e-3)  # log(1 + 3)


def test_fitted_on_a_known_signal_the_learned_scorer_beats_the_heuristic_on_held_out_leads() -> (
    None
):
    # given a tenant whose truth contradicts the heuristic (cold outreach wins, partners lose)
    training, held_out = _split()
    # when a model is fitted on the training split only
    model = fit(examples_of_all(training))
    # then, on the held-out leads it never saw, it ranks and calibrates better
    learned = summary(replayed_pairs(model_score(model), held_out))
    heuristic = summary(replayed_pairs(heuristic_score, held_out))
    assert learned is not None
    assert heuristic is not None
    assert learned["roc_auc"] > heuristic["roc_auc"] + 0.1
    assert learned["brier_score"] < heuristic["brier_score"]
    assert learned["log_loss"] < heuristic["log_loss"]
    # and it found the signal's direction
    weights = dict(zip(FEATURE_NAMES, model.coefficients, strict=True))
    assert weights["source:cold_outreach"] > 0 > weights["source:partner"]
    assert weights["business_domain"] > 0


def test_a_stored_model_scores_the_same_after_a_round_trip_through_json() -> None:
    model = fit(examples_of_all(_split(400)[0]))
    again = LearnedModel.from_json(model.as_json())
    assert again.probability(LEAD) == pytest.approx(model.probability(LEAD))


def test_a_model_made_for_other_features_is_refused_not_misread() -> None:
    stored = fit(examples_of_all(_split(400)[0])).as_json()
    stored["feature_names"] = [*stored["feature_names"][:-1], "something_else"]
    with pytest.raises(ValueError, match="other features"):
        LearnedModel.from_json(stored)


async def test_an_assessment_explains_itself_with_factors_from_the_coefficients() -> None:
    model = fit(examples_of_all(_split()[0]))
    scorer = LearnedScorer(StoredModel(version=3, outcomes=1200, model=model))
    assessment = await scorer.score(LEAD)
    assert assessment.scorer == scorer.name == "learned:v3"
    assert assessment.score == pytest.approx(model.probability(LEAD), abs=1e-3)
    factors = {factor.name: factor for factor in assessment.factors}
    assert set(factors) == {"source", "stage", "messages", "business_domain", "age"}
    # cold outreach and a domain help in this tenant: their factors push the score up
    assert factors["source"].impact > 0
    assert factors["business_domain"].impact > 0
    assert factors["source"].note == "cold outreach source"
    assert "learned from 1200 closed leads (v3)" in assessment.reason


async def test_without_a_model_the_configured_scorer_answers_under_the_name_it_stores() -> None:
    # the name is what the cache looks analyses up by: it must be the one stored
    cold = ColdStartScorer(HeuristicScorer(), "not trained yet")
    assessment = await cold.score(LEAD)
    assert assessment.scorer == cold.name == "heuristic (fallback from learned)"
    assert assessment.score == (await HeuristicScorer().score(LEAD)).score


@pytest.mark.parametrize("log_odds", [-800.0, -5.0, 0.0, 5.0, 800.0])
def test_the_logistic_function_never_overflows(log_odds: float) -> None:
    assert 0.0 <= logistic(log_odds) <= 1.0
