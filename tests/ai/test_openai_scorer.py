"""The OpenAI scorer, through the real `openai` client, against a fake server.

Also the fallback scorer and the factory, which exist to decide what happens when the
model cannot answer.
"""

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest

from domain.enums import LeadSource, LeadStage, Recommendation
from services.ai.circuit import CircuitBreakingScorer
from services.ai.factory import build_scorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer, assess_lead
from services.ai.openai_scorer import INSTRUCTIONS, PROMPT_VERSION, OpenAIScorer
from services.ai.types import Assessment, ScorerUnavailable, ScoringInput
from settings import AISettings

from .fake_openai import (
    SERVER_ERROR_TEXT,
    FakeOpenAI,
    answer,
    http_error,
    raw_body,
    raw_content,
    slow,
)

MODEL = "fake-model"

FEATURES = ScoringInput(
    source=LeadSource.PARTNER,
    stage=LeadStage.QUALIFIED,
    message_count=12,
    has_business_domain=True,
    business_domain="fintech",
    days_since_created=5,
)

GOOD_ANSWER: dict[str, Any] = {
    "score": 0.82,
    "recommendation": "transfer_to_sales",
    "reason": "A qualified partner lead with steady conversation.",
    "factors": [
        {"name": "source", "impact": 0.2, "note": "partner"},
        {"name": "engagement", "impact": 0.15, "note": None},
    ],
}


def with_changes(**changes: object) -> dict[str, Any]:
    return {**GOOD_ANSWER, **changes}


def factor(**changes: object) -> dict[str, Any]:
    return {"name": "source", "impact": 0.1, "note": "partner", **changes}


@asynccontextmanager
async def openai_scorer(
    fake: FakeOpenAI,
    *,
    timeout_seconds: float = 5.0,
    api_key: str | None = None,
    max_retries: int = 0,
    retry_max_wait_seconds: float = 1.0,
) -> AsyncIterator[OpenAIScorer]:
    settings = AISettings(
        base_url=fake.base_url,
        model=MODEL,
        api_key=api_key,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        retry_base_seconds=0.01,
        retry_max_wait_seconds=retry_max_wait_seconds,
    )
    scorer = OpenAIScorer(settings)
    try:
        yield scorer
    finally:
        await scorer.aclose()


async def score_against(fake: FakeOpenAI, **settings: Any) -> Assessment:
    async with openai_scorer(fake, **settings) as scorer:
        return await scorer.score(FEATURES)


async def test_good_answer_becomes_an_assessment(fake_openai: FakeOpenAI) -> None:
    # given a model that answers well-formed JSON
    fake_openai.reply = answer(GOOD_ANSWER)

    # when a lead is scored
    assessment = await score_against(fake_openai)

    # then the assessment carries the model's answer and who gave it
    assert assessment.score == 0.82
    assert assessment.recommendation is Recommendation.TRANSFER_TO_SALES
    assert assessment.reason == GOOD_ANSWER["reason"]
    assert [(f.name, f.impact, f.note) for f in assessment.factors] == [
        ("source", 0.2, "partner"),
        ("engagement", 0.15, None),
    ]
    assert assessment.scorer == f"openai:{MODEL}"
    assert assessment.prompt_version == PROMPT_VERSION


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mark_lost", Recommendation.MARK_LOST),
        ("TRANSFER_TO_SALES", Recommendation.TRANSFER_TO_SALES),
        (" Continue_Nurturing ", Recommendation.CONTINUE_NURTURING),
    ],
)
async def test_recommendation_by_value_or_name(
    fake_openai: FakeOpenAI, given: str, expected: Recommendation
) -> None:
    # given a model that spells the recommendation as a value or an enum name
    fake_openai.reply = answer(with_changes(recommendation=given))

    # when a lead is scored; then the recommendation is understood
    assert (await score_against(fake_openai)).recommendation is expected


INVALID_ANSWERS = [
    ("not json", "{score: 0.8", "not valid JSON"),
    ("empty", "", "no text"),
    ("not an object", "[0.8]", "not a JSON object"),
    ("NaN literal", '{"score": NaN}', "not valid JSON"),
    ("score above 1", json.dumps(with_changes(score=1.5)), "score"),
    ("score below 0", json.dumps(with_changes(score=-0.1)), "score"),
    ("score as text", json.dumps(with_changes(score="0.8")), "score"),
    ("score as bool", json.dumps(with_changes(score=True)), "score"),
    ("score missing", json.dumps({k: v for k, v in GOOD_ANSWER.items() if k != "score"}), "score"),
    ("unknown recommendation", json.dumps(with_changes(recommendation="buy")), "recommendation"),
    ("blank reason", json.dumps(with_changes(reason="  ")), "reason"),
    ("reason too long", json.dumps(with_changes(reason="x" * 2001)), "reason"),
    ("factors not a list", json.dumps(with_changes(factors={"a": 1})), "factors"),
    ("too many factors", json.dumps(with_changes(factors=[factor()] * 21)), "factors"),
    ("factor not an object", json.dumps(with_changes(factors=["source"])), "factor"),
    ("factor without name", json.dumps(with_changes(factors=[factor(name="")])), "name"),
    ("factor impact too big", json.dumps(with_changes(factors=[factor(impact=2)])), "impact"),
    ("factor impact as text", json.dumps(with_changes(factors=[factor(impact="+")])), "impact"),
    ("factor note not text", json.dumps(with_changes(factors=[factor(note=3)])), "note"),
]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(content, complaint) for _, content, complaint in INVALID_ANSWERS],
    ids=[case_id for case_id, _, _ in INVALID_ANSWERS],
)
async def test_invalid_answer_makes_scorer_unavailable(
    fake_openai: FakeOpenAI, content: str, complaint: str
) -> None:
    # given a model whose answer is malformed or out of range
    fake_openai.reply = raw_content(content)

    # when a lead is scored; then the scorer is unavailable and says what was wrong
    with pytest.raises(ScorerUnavailable, match=complaint):
        await score_against(fake_openai)


@pytest.mark.parametrize(
    ("body", "media_type"),
    [
        ("<html>Bad gateway</html>", "text/html"),
        ("<html>Bad gateway</html>", "application/json"),
        ('{"error": null}', "application/json"),
        ('{"choices": []}', "application/json"),
        ('{"choices": "none"}', "application/json"),
        ('{"choices": [{"message": {"content": {"score": 1}}}]}', "application/json"),
        ("[1, 2]", "application/json"),
    ],
    ids=[
        "html",
        "html claiming json",
        "no choices",
        "empty choices",
        "choices not a list",
        "content not text",
        "list",
    ],
)
async def test_body_that_is_not_a_completion_makes_scorer_unavailable(
    fake_openai: FakeOpenAI, body: str, media_type: str
) -> None:
    # given a server that answers 200 with something other than a chat completion
    fake_openai.reply = raw_body(body, media_type)

    # when a lead is scored; then the scorer is unavailable rather than crashing
    with pytest.raises(ScorerUnavailable, match=r"not a chat completion|no text|JSONDecodeError"):
        await score_against(fake_openai)


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(500, 3), (503, 3), (429, 3), (401, 1), (400, 1)],
    ids=["500", "503", "429", "401", "400"],
)
async def test_http_error_makes_scorer_unavailable_once_retries_are_spent(
    fake_openai: FakeOpenAI, status: int, attempts: int
) -> None:
    # given a server that keeps failing with an HTTP error, and two retries allowed
    fake_openai.reply = http_error(status, headers={"retry-after": "0"})

    # when a lead is scored
    with pytest.raises(ScorerUnavailable) as raised:
        await score_against(fake_openai, max_retries=2)

    # then the error names the status, not the server's words; only 429 and 5xx were retried
    assert str(raised.value) == f"openai:{MODEL} answered HTTP {status}"
    assert SERVER_ERROR_TEXT not in str(raised.value)
    assert len(fake_openai.requests) == attempts


async def test_slow_answer_times_out(fake_openai: FakeOpenAI) -> None:
    # given a model that takes 5 s and a scorer that waits 0.3 s
    fake_openai.reply = slow(5.0, GOOD_ANSWER)
    started = time.monotonic()

    # when a lead is scored
    with pytest.raises(ScorerUnavailable, match="timed out"):
        await score_against(fake_openai, timeout_seconds=0.3)

    # then it gave up soon after the timeout, after one attempt
    assert time.monotonic() - started < 2.0
    assert len(fake_openai.requests) == 1


async def test_deadline_holds_even_when_the_client_would_wait_longer(
    fake_openai: FakeOpenAI,
) -> None:
    # given a caller's client that would wait 10 s, and settings that allow 0.3 s
    fake_openai.reply = slow(5.0, GOOD_ANSWER)
    settings = AISettings(
        base_url=fake_openai.base_url, model=MODEL, timeout_seconds=0.3, max_retries=0
    )
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key="k", timeout=10.0, max_retries=0
    )
    started = time.monotonic()

    # when a lead is scored
    try:
        with pytest.raises(ScorerUnavailable, match="timed out"):
            await OpenAIScorer(settings, client=client).score(FEATURES)
    finally:
        await client.close()

    # then the settings' deadline won
    assert time.monotonic() - started < 2.0


async def test_unreachable_server_makes_scorer_unavailable() -> None:
    # given a base URL where nothing listens
    settings = AISettings(
        base_url="http://127.0.0.1:9/v1", model=MODEL, timeout_seconds=2.0, max_retries=0
    )
    scorer = OpenAIScorer(settings)

    # when a lead is scored; then the scorer is unavailable
    try:
        with pytest.raises(ScorerUnavailable, match="APIConnectionError"):
            await scorer.score(FEATURES)
    finally:
        await scorer.aclose()


async def test_prompt_holds_only_instructions_and_scoring_input(fake_openai: FakeOpenAI) -> None:
    # given a model that answers well
    fake_openai.reply = answer(GOOD_ANSWER)

    # when a lead is scored
    await score_against(fake_openai)

    # then the request held the fixed instructions and the scoring input, nothing else
    (request,) = fake_openai.requests
    assert set(request.body) == {"model", "messages", "response_format"}
    assert request.body["model"] == MODEL
    system, user = request.body["messages"]
    assert system == {"role": "system", "content": INSTRUCTIONS}
    assert user["role"] == "user"
    assert json.loads(user["content"]) == FEATURES.as_json()
    assert set(json.loads(user["content"])) == {
        "source",
        "stage",
        "message_count",
        "has_business_domain",
        "business_domain",
        "days_since_created",
    }


async def test_request_asks_for_a_strict_json_schema(fake_openai: FakeOpenAI) -> None:
    # given a model that answers well; when a lead is scored
    fake_openai.reply = answer(GOOD_ANSWER)
    await score_against(fake_openai)

    # then the request demands the answer's shape, with the known recommendations
    response_format = fake_openai.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert set(schema["required"]) == {"score", "recommendation", "reason", "factors"}
    assert set(schema["properties"]["recommendation"]["enum"]) == {
        recommendation.value for recommendation in Recommendation
    }


@pytest.mark.parametrize(
    ("api_key", "sent"), [(None, "Bearer not-needed"), ("sk-test", "Bearer sk-test")]
)
async def test_api_key_is_sent_or_a_placeholder(
    fake_openai: FakeOpenAI, api_key: str | None, sent: str
) -> None:
    # given settings with or without an API key; when a lead is scored
    fake_openai.reply = answer(GOOD_ANSWER)
    await score_against(fake_openai, api_key=api_key)

    # then the key, or a placeholder a local server ignores, is sent
    assert fake_openai.requests[0].authorization == sent


def test_scorer_needs_a_model() -> None:
    # given settings without a model; when an OpenAI scorer is built; then it refuses
    with pytest.raises(ValueError, match="model"):
        OpenAIScorer(AISettings(model=None))


@pytest.mark.parametrize(
    "failure",
    [http_error(500), http_error(429), raw_content("{oops"), slow(5.0, GOOD_ANSWER)],
    ids=["500", "429", "malformed", "timeout"],
)
async def test_fallback_answers_when_model_is_unavailable(
    fake_openai: FakeOpenAI, failure: Any
) -> None:
    # given a model that cannot give a valid answer, backed by the heuristic
    fake_openai.reply = failure
    async with openai_scorer(fake_openai, timeout_seconds=0.3) as model:
        scorer = FallbackScorer(model, HeuristicScorer())

        # when a lead is scored
        assessment = await scorer.score(FEATURES)

    # then the heuristic answered, and the assessment says it stood in for the model
    assert assessment.scorer == f"heuristic (fallback from openai:{MODEL})"
    assert assessment.score == assess_lead(FEATURES).score
    assert assessment.recommendation is Recommendation.TRANSFER_TO_SALES


async def test_fallback_stays_unused_when_model_answers(fake_openai: FakeOpenAI) -> None:
    # given a model that answers well, backed by the heuristic
    fake_openai.reply = answer(GOOD_ANSWER)
    async with openai_scorer(fake_openai) as model:
        scorer = FallbackScorer(model, HeuristicScorer())

        # when a lead is scored
        assessment = await scorer.score(FEATURES)

    # then the model's answer is returned untouched
    assert assessment.scorer == f"openai:{MODEL}"
    assert assessment.score == 0.82
    assert scorer.name == f"openai:{MODEL}"


class BrokenScorer:
    """A scorer with a bug: it fails with something other than ScorerUnavailable."""

    @property
    def name(self) -> str:
        return "broken"

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        raise RuntimeError("bug")

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_fallback_does_not_hide_bugs() -> None:
    # given a primary scorer that fails with a bug, not with unavailability
    scorer = FallbackScorer(BrokenScorer(), HeuristicScorer())

    # when a lead is scored; then the bug propagates instead of being papered over
    with pytest.raises(RuntimeError, match="bug"):
        await scorer.score(FEATURES)


@pytest.mark.parametrize(
    ("settings", "expected_name", "expected_type"),
    [
        (AISettings(), "heuristic", HeuristicScorer),
        (AISettings(model="m", fallback_to_heuristic=False), "openai:m", CircuitBreakingScorer),
        (AISettings(model="m", fallback_to_heuristic=True), "openai:m", FallbackScorer),
    ],
    ids=["no model", "model only", "model with fallback"],
)
def test_factory_builds_the_configured_scorer(
    settings: AISettings, expected_name: str, expected_type: type
) -> None:
    # given AI settings; when the scorer is built; then it is the one they describe
    scorer = build_scorer(settings)
    assert scorer.name == expected_name
    assert isinstance(scorer, expected_type)
