"""analyzeLead end to end with a language model: the real app, the real openai client,
and a fake OpenAI-compatible server on loopback."""

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from settings import AISettings, Settings
from tests.conftest import GraphQLClient, bearer, start_server

from .fake_openai import FakeOpenAI, answer, http_error, raw_content

CREATE = """
mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }
"""
ANALYZE = """
mutation($id: ID!) {
  analyzeLead(input: {leadId: $id, force: true}) {
    analysis { score recommendation reason scorer factors { name impact } }
    lead { version latestAnalysis { id } analyses { edges { node { id } } } }
    userErrors { code message }
  }
}
"""
GOOD_ANSWER = {
    "score": 0.82,
    "recommendation": "transfer_to_sales",
    "reason": "Engaged partner lead in a known domain.",
    "factors": [{"name": "engagement", "impact": 0.3, "note": "12 messages"}],
}


def _model_settings(base: Settings, fake: FakeOpenAI, *, fallback: bool) -> Settings:
    ai = AISettings(
        base_url=fake.base_url,
        model="fake-model",
        api_key="test-key",
        timeout_seconds=0.5,
        fallback_to_heuristic=fallback,
        retry_base_seconds=0.01,  # a failing call is still retried, quickly
        circuit_failures=1000,  # these tests fail on purpose; the circuit has its own
    )
    return dataclasses.replace(base, ai=ai)


@pytest.fixture(scope="module")
async def model_clients(
    settings: Settings, migrated: str, admin_key: str, fake_openai_server: FakeOpenAI
) -> AsyncIterator[dict[bool, GraphQLClient]]:
    """Two live servers on the test database: strict (no fallback) and with fallback."""
    clients: dict[bool, GraphQLClient] = {}
    servers, https = [], []
    for fallback in (False, True):
        server = await start_server(
            _model_settings(settings, fake_openai_server, fallback=fallback), migrated
        )
        client = httpx.AsyncClient(base_url=server.url, timeout=30, headers=bearer(admin_key))
        servers.append(server)
        https.append(client)
        clients[fallback] = GraphQLClient(client)
    yield clients
    for client in https:
        await client.aclose()
    for server in servers:
        await server.stop()


async def _new_lead(gql: GraphQLClient) -> str:
    lead = {
        "name": "Grace Secret-Name",
        "email": "grace@secret.example",
        "source": "PARTNER",
        "businessDomain": "fintech",
    }
    data = await gql.data(CREATE, {"input": lead})
    lead_id: str = data["createLead"]["lead"]["id"]
    return lead_id


async def _analyze(gql: GraphQLClient, lead_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(ANALYZE, {"id": lead_id}))["analyzeLead"]
    return result


async def test_a_valid_model_answer_is_stored_with_the_model_as_scorer(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI
) -> None:
    # given a model that answers well
    fake_openai.reply = answer(GOOD_ANSWER)
    lead_id = await _new_lead(model_clients[False])
    # when the lead is analyzed
    result = await _analyze(model_clients[False], lead_id)
    # then the answer is stored as the model's, and the lead itself did not change
    assert result["userErrors"] == []
    assert result["analysis"]["score"] == pytest.approx(0.82)
    assert result["analysis"]["recommendation"] == "TRANSFER_TO_SALES"
    assert result["analysis"]["scorer"] == "openai:fake-model"
    assert result["lead"]["version"] == 1
    assert result["lead"]["latestAnalysis"] is not None


async def test_the_prompt_holds_only_the_scoring_features(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI
) -> None:
    # given a lead with a name and an e-mail
    fake_openai.reply = answer(GOOD_ANSWER)
    lead_id = await _new_lead(model_clients[False])
    # when it is analyzed by a model
    await _analyze(model_clients[False], lead_id)
    # then nothing but the six features reached the model
    sent = json.dumps(fake_openai.requests[-1].body)
    assert "Secret-Name" not in sent
    assert "secret.example" not in sent
    assert "fintech" in sent


@pytest.mark.parametrize(
    "reply",
    [
        http_error(500),
        http_error(429),
        raw_content("{not json"),
        answer({**GOOD_ANSWER, "score": 1.7}),
    ],
    ids=["http-500", "http-429", "malformed-json", "score-out-of-range"],
)
async def test_a_failed_model_answer_stores_nothing_and_says_ai_unavailable(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI, reply: Any
) -> None:
    # given a model that fails and no fallback
    fake_openai.reply = reply
    lead_id = await _new_lead(model_clients[False])
    # when the lead is analyzed
    result = await _analyze(model_clients[False], lead_id)
    # then the client gets AI_UNAVAILABLE and no analysis exists
    assert result["analysis"] is None
    assert [e["code"] for e in result["userErrors"]] == ["AI_UNAVAILABLE"]
    lead = await model_clients[False].data(
        "query($id: ID!) { lead(id: $id) { latestAnalysis { id } analyses { edges { cursor } } } }",
        {"id": lead_id},
    )
    assert lead["lead"] == {"latestAnalysis": None, "analyses": {"edges": []}}


async def test_with_fallback_a_failed_model_answer_is_replaced_by_the_heuristic(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI
) -> None:
    # given a failing model and the heuristic fallback switched on
    fake_openai.reply = http_error(500)
    lead_id = await _new_lead(model_clients[True])
    # when the lead is analyzed
    result = await _analyze(model_clients[True], lead_id)
    # then the heuristic answers, and says it stood in for the model
    assert result["userErrors"] == []
    assert result["analysis"]["scorer"] == "heuristic (fallback from openai:fake-model)"
