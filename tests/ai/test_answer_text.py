"""A model's words obey the rules a user's words obey: no NUL, control or invisible
formatting characters in what would be stored. Such an answer is a failed answer
(ScorerUnavailable), so the fallback or AI_UNAVAILABLE applies and nothing is stored.
"""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.enums import LeadSource, LeadStage
from services.ai.openai_scorer import OpenAIScorer
from services.ai.types import Assessment, ScorerUnavailable, ScoringInput
from settings import AISettings, Settings
from tests.conftest import GraphQLClient, bearer, start_server

from .fake_openai import FakeOpenAI, answer

FEATURES = ScoringInput(
    source=LeadSource.PARTNER,
    stage=LeadStage.QUALIFIED,
    message_count=3,
    has_business_domain=True,
    business_domain="fintech",
    days_since_created=2,
)
FACTOR = {"name": "engagement", "impact": 0.3, "note": "3 messages"}
GOOD = {
    "score": 0.7,
    "recommendation": "continue_nurturing",
    "reason": "A partner lead in a known domain.",
    "factors": [FACTOR],
}


def with_reason(reason: str) -> dict[str, Any]:
    return {**GOOD, "reason": reason}


def with_factor(**changes: object) -> dict[str, Any]:
    return {**GOOD, "factors": [{**FACTOR, **changes}]}


def _settings(fake: FakeOpenAI, *, fallback: bool = False) -> AISettings:
    return AISettings(
        base_url=fake.base_url,
        model="fake-model",
        timeout_seconds=2.0,
        fallback_to_heuristic=fallback,
    )


async def score_against(fake: FakeOpenAI) -> Assessment:
    scorer = OpenAIScorer(_settings(fake))
    try:
        return await scorer.score(FEATURES)
    finally:
        await scorer.aclose()


REFUSED = [
    ("NUL in the reason", with_reason("ok\u0000bad"), "reason"),
    ("escape in the reason", with_reason("ok \x1b[2J"), "reason"),
    ("C1 control in the reason", with_reason("ok\x85bad"), "reason"),
    ("bidi override in the reason", with_reason("ok \u202edab"), "reason"),
    ("line separator in the reason", with_reason("ok\u2028bad"), "reason"),
    ("NUL in a factor name", with_factor(name="eng\u0000agement"), "factor name"),
    ("line break in a factor name", with_factor(name="eng\nagement"), "factor name"),
    ("zero-width space in a factor name", with_factor(name="eng\u200bagement"), "factor name"),
    ("NUL in a factor note", with_factor(note="3\u0000messages"), "factor note"),
    ("tab in a factor note", with_factor(note="3\tmessages"), "factor note"),
    ("byte order mark in a factor note", with_factor(note="\ufeff3 messages"), "factor note"),
    ("a reason of joiners only", with_reason("\u200d\u200d"), "reason"),
]


@pytest.mark.parametrize(
    ("payload", "part"),
    [(payload, part) for _, payload, part in REFUSED],
    ids=[case_id for case_id, _, _ in REFUSED],
)
async def test_an_answer_with_unstorable_text_makes_the_scorer_unavailable(
    fake_openai: FakeOpenAI, payload: dict[str, Any], part: str
) -> None:
    # given a model whose answer text holds a character the API would refuse from a user
    fake_openai.reply = answer(payload)
    # when a lead is scored
    with pytest.raises(ScorerUnavailable) as raised:
        await score_against(fake_openai)
    # then the scorer is unavailable, names the part at fault and does not echo it
    assert part in str(raised.value)
    assert "bad" not in str(raised.value)
    assert "\x00" not in str(raised.value)


@pytest.mark.parametrize(
    ("payload", "reason", "factor"),
    [
        (
            with_reason("Engaged lead.\nKnown domain.\r\n\tPartner source."),
            "Engaged lead.\nKnown domain.\r\n\tPartner source.",
            ("engagement", "3 messages"),
        ),
        (
            with_factor(name="\U0001f469\u200d\U0001f4bb team", note="\u0645\u06cc\u200c\u0631"),
            GOOD["reason"],
            ("\U0001f469\u200d\U0001f4bb team", "\u0645\u06cc\u200c\u0631"),
        ),
    ],
    ids=["line breaks and tabs in the reason", "joiners in a factor"],
)
async def test_an_answer_with_ordinary_text_is_kept_as_is(
    fake_openai: FakeOpenAI, payload: dict[str, Any], reason: str, factor: tuple[str, str]
) -> None:
    # given a model whose text has line breaks in the reason, or joiners scripts need
    fake_openai.reply = answer(payload)
    # when a lead is scored
    assessment = await score_against(fake_openai)
    # then the text is kept exactly
    assert assessment.reason == reason
    assert [(f.name, f.note) for f in assessment.factors] == [factor]


# ---------------------------------------------------------------- end to end over HTTP


@pytest.fixture(scope="module")
async def model_clients(
    settings: Settings, migrated: str, admin_key: str, fake_openai_server: FakeOpenAI
) -> AsyncIterator[dict[bool, GraphQLClient]]:
    """Live servers scoring through the fake model: strict (False) and with fallback (True)."""
    clients: dict[bool, GraphQLClient] = {}
    servers, https = [], []
    for fallback in (False, True):
        ai = _settings(fake_openai_server, fallback=fallback)
        server = await start_server(dataclasses.replace(settings, ai=ai), migrated)
        servers.append(server)
        https.append(httpx.AsyncClient(base_url=server.url, timeout=30, headers=bearer(admin_key)))
        clients[fallback] = GraphQLClient(https[-1])
    yield clients
    for client in https:
        await client.aclose()
    for server in servers:
        await server.stop()


CREATE = "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }"
ANALYZE = """
mutation($id: ID!) {
  analyzeLead(input: {leadId: $id, force: true}) {
    analysis { scorer reason factors { name note } }
    userErrors { code message }
  }
}
"""
STORED = """
query($id: ID!) { lead(id: $id) { latestAnalysis { id } analyses { edges { cursor } } } }
"""

NUL_ANSWERS = {
    "NUL in the reason": with_reason("ok\u0000bad"),
    "NUL in a factor note": with_factor(note="3\u0000messages"),
}


async def _analyze_new_lead(gql: GraphQLClient) -> tuple[str, dict[str, Any]]:
    created = await gql.data(CREATE, {"input": {"name": "Ada", "source": "PARTNER"}})
    lead_id: str = created["createLead"]["lead"]["id"]
    result: dict[str, Any] = (await gql.data(ANALYZE, {"id": lead_id}))["analyzeLead"]
    return lead_id, result


@pytest.mark.parametrize("payload", NUL_ANSWERS.values(), ids=NUL_ANSWERS)
async def test_a_nul_in_the_answer_is_ai_unavailable_and_stores_nothing(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI, payload: dict[str, Any]
) -> None:
    # given a model that answers with a NUL in its text, and no fallback
    fake_openai.reply = answer(payload)
    gql = model_clients[False]
    # when a lead is analyzed
    lead_id, result = await _analyze_new_lead(gql)
    # then the client is told the AI is unavailable (not INTERNAL), and nothing is stored
    assert result["analysis"] is None
    [error] = result["userErrors"]
    assert error["code"] == "AI_UNAVAILABLE"
    assert "bad" not in error["message"]
    assert "\x00" not in error["message"]
    stored = await gql.data(STORED, {"id": lead_id})
    assert stored["lead"] == {"latestAnalysis": None, "analyses": {"edges": []}}


@pytest.mark.parametrize("payload", NUL_ANSWERS.values(), ids=NUL_ANSWERS)
async def test_with_fallback_a_nul_in_the_answer_gives_the_heuristic_its_turn(
    model_clients: dict[bool, GraphQLClient], fake_openai: FakeOpenAI, payload: dict[str, Any]
) -> None:
    # given a model that answers with a NUL in its text, and the heuristic as fallback
    fake_openai.reply = answer(payload)
    # when a lead is analyzed
    _, result = await _analyze_new_lead(model_clients[True])
    # then the heuristic's assessment is stored instead, free of the model's words
    assert result["userErrors"] == []
    assert result["analysis"]["scorer"] == "heuristic (fallback from openai:fake-model)"
    assert "\x00" not in str(result["analysis"])
