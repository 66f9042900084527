"""Per-tenant AI budgets and the `aiUsage` figures, over real HTTP against live servers
that share one database, and a fake OpenAI-compatible server that counts its calls."""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from settings import AISettings, Settings
from tests.conftest import GraphQLClient, LiveServer, bearer, start_server

from .fake_openai import FakeOpenAI, Reply, answer, http_error
from .minutes import not_at_the_end_of_a_minute

CREATE = """
mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }
"""
ANALYZE = """
mutation($id: ID!, $force: Boolean!) {
  analyzeLead(input: {leadId: $id, force: $force}) {
    analysis { id scorer tokensIn tokensOut promptVersion latencyMs }
    userErrors { code message }
  }
}
"""
USAGE = """
query($period: UsagePeriod!) {
  aiUsage(period: $period) {
    firstDay lastDay
    scorers { scorer calls cacheHits fallbacks tokensIn tokensOut }
  }
}
"""
GOOD_ANSWER = {
    "score": 0.71,
    "recommendation": "transfer_to_sales",
    "reason": "Engaged partner lead.",
    "factors": [{"name": "engagement", "impact": 0.3, "note": "several messages"}],
}
MODEL = "openai:fake-model"
FALLBACK = f"heuristic (fallback from {MODEL})"

Servers = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture(scope="module")
async def servers(
    settings: Settings, migrated: str, admin_key: str, fake_openai_server: FakeOpenAI
) -> AsyncIterator[Servers]:
    """`await servers(name, **ai)`: a client of a live server with these AI settings,
    started once per module for each name."""
    started: dict[str, tuple[LiveServer, httpx.AsyncClient]] = {}

    async def client(name: str, **ai: Any) -> GraphQLClient:
        if name not in started:
            ai_settings = AISettings(
                base_url=fake_openai_server.base_url,
                model="fake-model",
                retry_base_seconds=0.01,
                circuit_failures=1000,
                **ai,
            )
            server = await start_server(dataclasses.replace(settings, ai=ai_settings), migrated)
            http = httpx.AsyncClient(base_url=server.url, timeout=60, headers=bearer(admin_key))
            started[name] = (server, http)
        return GraphQLClient(started[name][1])

    yield client
    for server, http in started.values():
        await http.aclose()
        await server.stop()


async def _new_lead(gql: GraphQLClient, name: str = "Budget Lead") -> str:
    data = await gql.data(CREATE, {"input": {"name": name, "source": "PARTNER"}})
    lead_id: str = data["createLead"]["lead"]["id"]
    return lead_id


async def _analyze(gql: GraphQLClient, lead_id: str, *, force: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(ANALYZE, {"id": lead_id, "force": force}))[
        "analyzeLead"
    ]
    return result


async def _usage(gql: GraphQLClient, period: str = "TODAY") -> dict[str, dict[str, Any]]:
    data = await gql.data(USAGE, {"period": period})
    return {row["scorer"]: row for row in data["aiUsage"]["scorers"]}


def _tokens(prompt: int, completion: int) -> Reply:
    return dataclasses.replace(
        answer(GOOD_ANSWER), prompt_tokens=prompt, completion_tokens=completion
    )


async def test_each_analysis_stores_the_tokens_the_model_reported(
    servers: Servers, fake_openai: FakeOpenAI
) -> None:
    # given a model that reports 123 prompt and 45 answer tokens
    gql = await servers("strict", fallback_to_heuristic=False)
    fake_openai.reply = _tokens(123, 45)
    lead_id = await _new_lead(gql)
    # when the lead is analyzed
    result = await _analyze(gql, lead_id)
    # then the analysis carries them, with the model's name and prompt version
    assert result["userErrors"] == []
    analysis = result["analysis"]
    assert (analysis["tokensIn"], analysis["tokensOut"]) == (123, 45)
    assert analysis["scorer"] == MODEL
    assert analysis["promptVersion"] == "lead-score-v1"
    assert analysis["latencyMs"] >= 0


async def test_the_calls_per_minute_budget_holds_across_servers(
    servers: Servers, fake_openai: FakeOpenAI
) -> None:
    # given two servers allowing the tenant 2 model calls a minute, and no fallback
    first = await servers("two-a-minute-a", fallback_to_heuristic=False, calls_per_minute=2)
    second = await servers("two-a-minute-b", fallback_to_heuristic=False, calls_per_minute=2)
    fake_openai.reply = answer(GOOD_ANSWER)
    leads = [await _new_lead(first, f"Lead {n}") for n in range(3)]
    await not_at_the_end_of_a_minute()
    # when three leads are analyzed in the same minute, on alternating servers
    results = [
        await _analyze(server, lead)
        for server, lead in zip((first, second, first), leads, strict=True)
    ]
    # then two got the model's answer, the third AI_UNAVAILABLE, and the model saw two calls
    assert [r["analysis"]["scorer"] for r in results[:2]] == [MODEL, MODEL]
    assert results[2]["analysis"] is None
    assert [e["code"] for e in results[2]["userErrors"]] == ["AI_UNAVAILABLE"]
    assert len(fake_openai.requests) == 2


async def test_over_the_token_budget_the_fallback_answers_and_is_counted(
    servers: Servers, fake_openai: FakeOpenAI
) -> None:
    # given a budget of 100 tokens a day, a heuristic fallback, and a model using 120 a call
    gql = await servers("hundred-tokens", tokens_per_day=100)
    fake_openai.reply = _tokens(100, 20)
    lead_id = await _new_lead(gql)
    # when the lead is analyzed twice
    spent = await _analyze(gql, lead_id)
    over = await _analyze(gql, lead_id)
    # then the model answered first, the heuristic second without the model being asked
    assert spent["analysis"]["scorer"] == MODEL
    assert over["analysis"]["scorer"] == FALLBACK
    assert (over["analysis"]["tokensIn"], over["analysis"]["tokensOut"]) == (None, None)
    assert len(fake_openai.requests) == 1
    # and aiUsage counts the call, its tokens and the fallback
    usage = await _usage(gql)
    assert usage[MODEL] == {
        "scorer": MODEL,
        "calls": 1,
        "cacheHits": 0,
        "fallbacks": 0,
        "tokensIn": 100,
        "tokensOut": 20,
    }
    assert usage[FALLBACK]["calls"] == 1
    assert usage[FALLBACK]["fallbacks"] == 1
    assert usage[FALLBACK]["tokensIn"] == 0


async def test_ai_usage_counts_cache_hits_per_scorer(
    servers: Servers, fake_openai: FakeOpenAI
) -> None:
    # given a lead analyzed by the model
    gql = await servers("strict", fallback_to_heuristic=False)
    fake_openai.reply = _tokens(10, 5)
    lead_id = await _new_lead(gql)
    await _analyze(gql, lead_id)
    # when it is analyzed twice more within the TTL, without force
    reused = [await _analyze(gql, lead_id, force=False) for _ in range(2)]
    # then both were answered from the cache, and aiUsage says so
    assert {r["analysis"]["scorer"] for r in reused} == {MODEL}
    assert len(fake_openai.requests) == 1
    usage = await _usage(gql, "LAST_7_DAYS")
    assert (usage[MODEL]["calls"], usage[MODEL]["cacheHits"]) == (1, 2)
    assert (usage[MODEL]["tokensIn"], usage[MODEL]["tokensOut"]) == (10, 5)


async def test_ai_usage_covers_whole_utc_days_up_to_today(servers: Servers) -> None:
    # given nothing analyzed; when the last 30 days are asked for
    gql = await servers("strict", fallback_to_heuristic=False)
    data = (await gql.data(USAGE, {"period": "LAST_30_DAYS"}))["aiUsage"]
    # then the period is 30 days ending today, and no scorer was used
    first, last = (datetime.fromisoformat(data[key]).date() for key in ("firstDay", "lastDay"))
    assert (last - first).days == 29
    assert last == datetime.now(UTC).date()
    assert data["scorers"] == []


async def test_a_failed_call_counts_against_the_calls_budget(
    servers: Servers, fake_openai: FakeOpenAI
) -> None:
    # given one model call a minute, and a model that fails it
    gql = await servers(
        "one-a-minute", fallback_to_heuristic=False, calls_per_minute=1, max_retries=0
    )
    fake_openai.reply = http_error(400)
    lead_id = await _new_lead(gql)
    await not_at_the_end_of_a_minute()
    failed = await _analyze(gql, lead_id)
    # when the model recovers within the same minute
    fake_openai.reply = answer(GOOD_ANSWER)
    refused = await _analyze(gql, lead_id)
    # then the failed call was spent: the model is not asked again this minute
    assert [e["code"] for e in failed["userErrors"]] == ["AI_UNAVAILABLE"]
    assert [e["code"] for e in refused["userErrors"]] == ["AI_UNAVAILABLE"]
    assert len(fake_openai.requests) == 1
