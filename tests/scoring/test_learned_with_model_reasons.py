"""LEARNED_WITH_MODEL_REASONS end to end: the learned model scores, the language model
(a fake OpenAI-compatible server on loopback, through the real client) words the reason."""

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from settings import AISettings, Settings
from tests.ai.fake_openai import FakeOpenAI, answer, http_error, slow
from tests.api.operations import analyze, ok
from tests.conftest import LEARNED_MIN_OUTCOMES, GraphQLClient, bearer, start_server
from tests.factories import closed_history, lead_at_stage

CHOOSE = """
mutation($scorer: ScorerKind!) {
  chooseScorer(input: {scorer: $scorer}) { settings { active } userErrors { code } }
}
"""
TRAIN = "mutation { trainScorer { model { version } userErrors { code } } }"
WORDS = "Cold outreach leads with a business domain close well in this company."


@pytest.fixture
async def model_admin(
    settings: Settings, migrated: str, admin_key: str, fake_openai: FakeOpenAI
) -> AsyncIterator[GraphQLClient]:
    ai = AISettings(
        base_url=fake_openai.base_url,
        model="fake-model",
        timeout_seconds=2.0,
        retry_base_seconds=0.01,
        max_retries=0,
        learned_min_outcomes=LEARNED_MIN_OUTCOMES,
    )
    server = await start_server(dataclasses.replace(settings, ai=ai), migrated)
    try:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, headers=bearer(admin_key)
        ) as client:
            yield GraphQLClient(client)
    finally:
        await server.stop()


async def _prepared(gql: GraphQLClient, fake: FakeOpenAI) -> str:
    """History analysed by the model, a trained model, the kind chosen; a new lead's id."""
    fake.reply = answer(
        {"score": 0.7, "recommendation": "transfer_to_sales", "reason": "ok", "factors": []}
    )
    await closed_history(gql, wins=5, losses=5)
    ok((await gql.data(TRAIN))["trainScorer"])
    chosen = (await gql.data(CHOOSE, {"scorer": "LEARNED_WITH_MODEL_REASONS"}))["chooseScorer"]
    assert chosen["settings"]["active"] == "LEARNED_WITH_MODEL_REASONS"
    lead = await lead_at_stage(gql, "CONTACTED", source="COLD_OUTREACH", businessDomain="x.io")
    fake.requests.clear()
    return str(lead["id"])


async def test_the_learned_score_comes_with_the_models_words(
    model_admin: GraphQLClient, fake_openai: FakeOpenAI
) -> None:
    lead_id = await _prepared(model_admin, fake_openai)
    fake_openai.reply = answer({"reason": WORDS})
    analysis = ok(await analyze(model_admin, lead_id))["analysis"]
    assert analysis["scorer"] == "learned:v1+openai:fake-model"
    assert analysis["reason"] == WORDS
    assert {factor["name"] for factor in analysis["factors"]} == {
        "source",
        "stage",
        "messages",
        "business_domain",
        "age",
    }
    # the model was asked to explain numbers only: features, score and factor weights
    (request,) = fake_openai.requests
    sent = json.loads(request.body["messages"][-1]["content"])
    assert set(sent) == {
        "source",
        "stage",
        "message_count",
        "has_business_domain",
        "days_since_created",
        "score",
        "recommendation",
        "factors",
    }
    assert sent["score"] == analysis["score"]


async def test_without_the_model_the_learned_reason_stands_marked(
    model_admin: GraphQLClient, fake_openai: FakeOpenAI
) -> None:
    lead_id = await _prepared(model_admin, fake_openai)
    fake_openai.reply = http_error(500)
    analysis = ok(await analyze(model_admin, lead_id))["analysis"]
    assert analysis["scorer"] == "learned:v1 (fallback from learned:v1+openai:fake-model)"
    assert "learned from" in analysis["reason"]


async def test_before_any_training_the_model_answers_once_for_concurrent_requests(
    model_admin: GraphQLClient, fake_openai: FakeOpenAI
) -> None:
    # given a tenant that chose the learned scorer but has no model yet (cold start)
    await model_admin.data(CHOOSE, {"scorer": "LEARNED"})
    lead = await lead_at_stage(model_admin, "CONTACTED")
    fake_openai.requests.clear()
    fake_openai.reply = slow(
        0.5, {"score": 0.4, "recommendation": "continue_nurturing", "reason": "ok", "factors": []}
    )
    # when ten analyses of the lead arrive at once
    results = await asyncio.gather(*(analyze(model_admin, lead["id"]) for _ in range(10)))
    # then the configured model answered once, for all of them, marked as standing in
    assert len(fake_openai.requests) == 1
    analyses = {ok(result)["analysis"]["id"] for result in results}
    assert len(analyses) == 1
    assert ok(results[0])["analysis"]["scorer"] == "openai:fake-model (fallback from learned)"
