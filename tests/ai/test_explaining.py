"""A scorer whose reason a language model words: through the real `openai` client against
the fake server over real HTTP. The inner scorer decides; the model only explains, sees
numbers and enums only, and when it cannot answer the inner assessment stands, marked."""

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from domain.enums import Recommendation
from services.ai.explaining import ExplainingScorer
from services.ai.factory import ModelChain, build_model_chain, build_scorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.openai_explainer import (
    EXPLAIN_INSTRUCTIONS,
    EXPLAIN_PROMPT_VERSION,
    EXPLANATION_FORMAT,
)
from services.ai.types import Assessment, Factor, ScorerUnavailable, ScoringInput
from settings import AISettings

from .fake_openai import FakeOpenAI, Reply, answer, http_error, raw_content, slow
from .test_openai_scorer import FEATURES, MODEL

INNER = "learned:v7"
EXPLAINED = f"{INNER}+openai:{MODEL}"
MARKED = f"{INNER} (fallback from {EXPLAINED})"
MODEL_REASON = "Partner leads this far along usually close; steady conversation helps."
# Text our own code wrote; the rule is numbers and enums only, so none of it may be sent.
INNER_REASON = "Templated reason: private-template-words."
FACTOR_NOTES = ("note-about-the-source", "note-about-engagement")

INNER_ASSESSMENT = Assessment(
    score=0.74,
    recommendation=Recommendation.TRANSFER_TO_SALES,
    reason=INNER_REASON,
    factors=(
        Factor("source", 0.21, FACTOR_NOTES[0]),
        Factor("messages", -0.05, FACTOR_NOTES[1]),
    ),
    scorer=INNER,
)


class FixedScorer:
    """An inner scorer that always gives the same assessment, as the learned one would."""

    def __init__(self, assessment: Assessment = INNER_ASSESSMENT) -> None:
        self._assessment = assessment

    @property
    def name(self) -> str:
        return INNER

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        return self._assessment

    async def aclose(self) -> None:
        """Nothing to release."""


class DecliningScorer:
    """A scorer that never answers, like a learned scorer with no model yet."""

    @property
    def name(self) -> str:
        return INNER

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        raise ScorerUnavailable("no learned model yet")

    async def aclose(self) -> None:
        """Nothing to release."""


def ai_settings(fake: FakeOpenAI, **changes: Any) -> AISettings:
    defaults: dict[str, Any] = {
        "base_url": fake.base_url,
        "model": MODEL,
        "timeout_seconds": 5.0,
        "max_retries": 0,
        "retry_base_seconds": 0.01,
    }
    return AISettings(**{**defaults, **changes})


@asynccontextmanager
async def model_chain(fake: FakeOpenAI, **changes: Any) -> AsyncIterator[ModelChain]:
    chain = build_model_chain(ai_settings(fake, **changes))
    try:
        yield chain
    finally:
        await chain.aclose()


async def explained(fake: FakeOpenAI, **changes: Any) -> Assessment:
    async with model_chain(fake, **changes) as chain:
        return await chain.with_model_reasons(FixedScorer()).score(FEATURES)


def marked_inner() -> Assessment:
    return dataclasses.replace(INNER_ASSESSMENT, scorer=MARKED)


async def test_the_model_words_the_reason_and_the_inner_scorer_decides(
    fake_openai: FakeOpenAI,
) -> None:
    # given a model that answers a reason, reporting 40 prompt and 12 answer tokens
    fake_openai.reply = dataclasses.replace(
        answer({"reason": MODEL_REASON}), prompt_tokens=40, completion_tokens=12
    )

    # when the inner scorer's assessment is explained
    assessment = await explained(fake_openai)

    # then the reason is the model's; score, recommendation and factors the inner scorer's;
    # and the explanation's scorer, prompt version and tokens are recorded
    assert assessment == dataclasses.replace(
        INNER_ASSESSMENT,
        reason=MODEL_REASON,
        scorer=EXPLAINED,
        prompt_version=EXPLAIN_PROMPT_VERSION,
        tokens_in=40,
        tokens_out=12,
    )
    assert EXPLAIN_PROMPT_VERSION == "lead-explain-v1"


async def test_a_model_answer_with_a_score_changes_nothing_but_the_reason(
    fake_openai: FakeOpenAI,
) -> None:
    # given a model that also tries to give its own score and recommendation
    fake_openai.reply = answer(
        {"reason": MODEL_REASON, "score": 0.01, "recommendation": "mark_lost", "factors": []}
    )

    # when the assessment is explained
    assessment = await explained(fake_openai)

    # then only the reason is taken from it
    assert assessment.score == INNER_ASSESSMENT.score
    assert assessment.recommendation is Recommendation.TRANSFER_TO_SALES
    assert assessment.factors == INNER_ASSESSMENT.factors
    assert assessment.reason == MODEL_REASON


async def test_the_prompt_holds_only_the_features_the_score_and_the_factor_impacts(
    fake_openai: FakeOpenAI,
) -> None:
    # given a model that answers well
    fake_openai.reply = answer({"reason": MODEL_REASON})

    # when an assessment whose reason and factor notes are our own text is explained
    await explained(fake_openai)

    # then the request held the fixed instructions, the answer format and exactly the
    # allowed keys: the features but the domain's text, score, recommendation, factors as
    # name and impact
    (request,) = fake_openai.requests
    assert set(request.body) == {"model", "messages", "response_format"}
    assert request.body["model"] == MODEL
    assert request.body["response_format"] == json.loads(json.dumps(EXPLANATION_FORMAT))
    system, user = request.body["messages"]
    assert system == {"role": "system", "content": EXPLAIN_INSTRUCTIONS}
    assert set(user) == {"role", "content"}
    assert user["role"] == "user"
    features = FEATURES.as_json()
    del features["business_domain"]
    assert json.loads(user["content"]) == {
        **features,
        "score": 0.74,
        "recommendation": "transfer_to_sales",
        "factors": [{"name": "source", "impact": 0.21}, {"name": "messages", "impact": -0.05}],
    }
    sent = json.dumps(request.body)
    for own_text in (INNER_REASON, "private-template-words", *FACTOR_NOTES):
        assert own_text not in sent, f"{own_text!r} reached the model"


async def test_the_answer_format_asks_for_a_reason_only(fake_openai: FakeOpenAI) -> None:
    # given a model that answers well; when an assessment is explained
    fake_openai.reply = answer({"reason": MODEL_REASON})
    await explained(fake_openai)

    # then the request demands a strict JSON object with a reason and nothing else
    response_format = fake_openai.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["required"] == ["reason"]
    assert set(schema["properties"]) == {"reason"}
    assert schema["additionalProperties"] is False


UNAVAILABLE = [
    ("model down", http_error(500)),
    ("rate limited", http_error(429)),
    ("refused", http_error(400)),
    ("timeout", slow(5.0, {"reason": MODEL_REASON})),
    ("not json", raw_content("{reason: oops")),
    ("not an object", raw_content('["a reason"]')),
    ("no reason", answer({"explanation": MODEL_REASON})),
    ("empty reason", answer({"reason": "  "})),
    ("reason not text", answer({"reason": 5})),
    ("NUL in the reason", answer({"reason": "ok\u0000bad"})),
    ("bidi override in the reason", answer({"reason": "ok \u202edab"})),
    ("reason too long", answer({"reason": "x" * 2001})),
    ("empty content", raw_content("")),
]


@pytest.mark.parametrize(
    "failure", [reply for _, reply in UNAVAILABLE], ids=[name for name, _ in UNAVAILABLE]
)
async def test_without_a_valid_explanation_the_inner_assessment_stands_marked(
    fake_openai: FakeOpenAI, failure: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    # given a model that cannot give a valid reason in time
    fake_openai.reply = failure

    # when an assessment is explained
    with caplog.at_level(logging.WARNING, logger="services.ai.explaining"):
        assessment = await explained(fake_openai, timeout_seconds=0.3)

    # then the inner assessment stands as it was, marked as standing in, and it is logged
    assert assessment == marked_inner()
    (logged,) = [r for r in caplog.records if r.name == "services.ai.explaining"]
    assert logged.levelno == logging.WARNING
    assert f"keeping the reason {INNER} gave" in logged.getMessage()


async def test_a_retried_failure_still_gets_the_models_reason(fake_openai: FakeOpenAI) -> None:
    # given a model that is briefly overloaded once, and one retry allowed
    fake_openai.replies = [http_error(503), answer({"reason": MODEL_REASON})]

    # when an assessment is explained
    assessment = await explained(fake_openai, max_retries=1)

    # then the second call's reason is used
    assert len(fake_openai.requests) == 2
    assert assessment.reason == MODEL_REASON
    assert assessment.scorer == EXPLAINED


async def test_retries_are_not_exceeded(fake_openai: FakeOpenAI) -> None:
    # given a model that stays overloaded, and two retries allowed
    fake_openai.reply = http_error(503)

    # when an assessment is explained
    assessment = await explained(fake_openai, max_retries=2)

    # then the model was asked three times, and the inner assessment stands, marked
    assert len(fake_openai.requests) == 3
    assert assessment == marked_inner()


async def test_a_circuit_opened_by_scoring_failures_pauses_explanations(
    fake_openai: FakeOpenAI,
) -> None:
    # given the configured scorer and the explainer of one chain, and a failing model
    fake_openai.reply = http_error(500)
    async with model_chain(fake_openai, circuit_failures=1) as chain:
        # when a scoring fails (the heuristic stands in) and opens the circuit
        scored = await chain.scorer.score(FEATURES)
        assert scored.scorer == f"heuristic (fallback from openai:{MODEL})"

        # and the model recovers, but an assessment is explained while the circuit is open
        fake_openai.reply = answer({"reason": MODEL_REASON})
        assessment = await chain.with_model_reasons(FixedScorer()).score(FEATURES)

    # then the model is not asked again: the inner assessment stands, marked
    assert assessment == marked_inner()
    assert len(fake_openai.requests) == 1


async def test_a_circuit_opened_by_explanation_failures_pauses_scoring(
    fake_openai: FakeOpenAI,
) -> None:
    # given one chain and a failing model
    fake_openai.reply = http_error(500)
    async with model_chain(fake_openai, circuit_failures=2) as chain:
        explaining = chain.with_model_reasons(FixedScorer())
        # when two explanations fail in a row
        for _ in range(2):
            assert await explaining.score(FEATURES) == marked_inner()

        # then scoring with the model is paused too: the heuristic answers at once
        scored = await chain.scorer.score(FEATURES)
    assert scored.scorer == f"heuristic (fallback from openai:{MODEL})"
    assert len(fake_openai.requests) == 2


async def test_a_stand_ins_assessment_passes_through_unexplained(
    fake_openai: FakeOpenAI,
) -> None:
    # given an inner scorer that declines, backed by the heuristic
    fake_openai.reply = answer({"reason": MODEL_REASON})
    inner = FallbackScorer(DecliningScorer(), HeuristicScorer())
    async with model_chain(fake_openai) as chain:
        # when a lead is scored with model reasons
        assessment = await chain.with_model_reasons(inner).score(FEATURES)

    # then the heuristic's assessment is returned as the fallback made it; no model call
    assert assessment.scorer == f"heuristic (fallback from {INNER})"
    assert assessment.prompt_version is None
    assert fake_openai.requests == []


async def test_an_inner_scorer_that_cannot_answer_is_not_hidden(fake_openai: FakeOpenAI) -> None:
    # given an inner scorer that cannot answer
    async with model_chain(fake_openai) as chain:
        scorer = chain.with_model_reasons(DecliningScorer())

        # when a lead is scored; then its unavailability propagates, and no model is asked
        with pytest.raises(ScorerUnavailable, match="no learned model yet"):
            await scorer.score(FEATURES)
    assert fake_openai.requests == []


async def test_the_explaining_scorer_is_named_for_both() -> None:
    # given a chain with a model; when a scorer is given model reasons
    chain = build_model_chain(AISettings(model="m"))
    scorer = chain.with_model_reasons(FixedScorer())
    await chain.aclose()

    # then it says who decided and who explained
    assert isinstance(scorer, ExplainingScorer)
    assert scorer.name == f"{INNER}+openai:m"
    assert chain.explainer is not None
    assert chain.explainer.name == "openai:m"


@pytest.mark.parametrize(
    "settings",
    [
        AISettings(),
        AISettings(model="m", fallback_to_heuristic=False),
        AISettings(model="m", fallback_to_heuristic=True),
    ],
    ids=["no model", "model only", "model with fallback"],
)
async def test_the_chain_scores_as_build_scorer_does(settings: AISettings) -> None:
    # given AI settings; when the chain and the scorer are built
    chain = build_model_chain(settings)
    scorer = build_scorer(settings)
    await chain.aclose()
    await scorer.aclose()

    # then the chain's scorer is the one build_scorer builds
    assert chain.scorer.name == scorer.name
    assert type(chain.scorer) is type(scorer)


def test_without_a_model_there_is_no_explainer() -> None:
    # given settings without a model; when the chain is built
    chain = build_model_chain(AISettings())

    # then there is no explainer, and a scorer keeps its own reasons
    inner = FixedScorer()
    assert chain.explainer is None
    assert chain.with_model_reasons(inner) is inner
