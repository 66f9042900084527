"""The shared cache, single flight and budget hold across operating-system processes:
the in-process live server and a real `python -m server`, both on the test database and
the fake OpenAI-compatible server on loopback."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import AISettings, Settings
from tests.conftest import GraphQLClient, bearer, start_server
from tests.processes import server_process

from .fake_openai import FakeOpenAI, answer, slow
from .minutes import not_at_the_end_of_a_minute

MODEL = "openai:fake-model"
CREATE = "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }"
ANALYZE = """
mutation($id: ID!) {
  analyzeLead(input: {leadId: $id}) { analysis { id scorer } userErrors { code } }
}
"""
GOOD_ANSWER = {
    "score": 0.71,
    "recommendation": "transfer_to_sales",
    "reason": "Engaged partner lead.",
    "factors": [],
}


@dataclasses.dataclass(frozen=True)
class Pair:
    here: GraphQLClient  # the in-process server
    there: GraphQLClient  # the server in a process of its own


def _ai(fake: FakeOpenAI, calls_per_minute: int) -> dict[str, str]:
    return {
        "CRM_AI_BASE_URL": fake.base_url,
        "CRM_AI_MODEL": "fake-model",
        "CRM_AI_TIMEOUT_SECONDS": "5",
        "CRM_AI_FALLBACK_TO_HEURISTIC": "false",
        "CRM_AI_CALLS_PER_MINUTE": str(calls_per_minute),
        "CRM_RATE_LIMIT_PER_MINUTE": "0",
        "CRM_RUN_WORKER": "off",
    }


@contextmanager
def _process(migrated: str, log: Path, fake: FakeOpenAI, calls: int) -> Iterator[str]:
    with server_process(migrated, log, **_ai(fake, calls)) as url:
        yield url


@pytest.fixture
async def pair(
    settings: Settings,
    migrated: str,
    admin_key: str,
    fake_openai: FakeOpenAI,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Pair]:
    calls: int = getattr(request, "param", 0)
    ai = AISettings(
        base_url=fake_openai.base_url,
        model="fake-model",
        timeout_seconds=5.0,
        fallback_to_heuristic=False,
        calls_per_minute=calls,
    )
    here = await start_server(dataclasses.replace(settings, ai=ai), migrated)
    with _process(migrated, tmp_path / "server.log", fake_openai, calls) as url:
        async with (
            httpx.AsyncClient(base_url=here.url, timeout=60, headers=bearer(admin_key)) as a,
            httpx.AsyncClient(base_url=url, timeout=60, headers=bearer(admin_key)) as b,
        ):
            yield Pair(GraphQLClient(a), GraphQLClient(b))
    await here.stop()


async def _new_lead(gql: GraphQLClient, name: str = "Ada") -> str:
    data = await gql.data(CREATE, {"input": {"name": name, "source": "PARTNER"}})
    return str(data["createLead"]["lead"]["id"])


async def _analyze(gql: GraphQLClient, lead_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(ANALYZE, {"id": lead_id}))["analyzeLead"]
    return result


async def test_concurrent_analyses_in_two_processes_make_one_model_call(
    pair: Pair, fake_openai: FakeOpenAI
) -> None:
    # given a lead and a model slow enough for every request to arrive while it thinks
    lead_id = await _new_lead(pair.here)
    fake_openai.reply = slow(1.0, GOOD_ANSWER)
    # when twenty analyses arrive at once, half in each process
    results = await asyncio.gather(
        *(_analyze(server, lead_id) for server in (pair.here, pair.there) * 10)
    )
    # then the model was asked once and every request got that one analysis
    assert len(fake_openai.requests) == 1
    assert {r["analysis"]["id"] for r in results} == {results[0]["analysis"]["id"]}
    # and, later, the other process answers from the shared cache
    fake_openai.reply = answer(GOOD_ANSWER)
    again = await _analyze(pair.there, lead_id)
    assert again["analysis"]["id"] == results[0]["analysis"]["id"]
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("pair", [2], indirect=True)
async def test_the_calls_per_minute_budget_holds_across_processes(
    pair: Pair, fake_openai: FakeOpenAI
) -> None:
    # given two processes allowing the tenant 2 model calls a minute, and no fallback
    fake_openai.reply = answer(GOOD_ANSWER)
    leads = [await _new_lead(pair.here, f"Lead {n}") for n in range(3)]
    await not_at_the_end_of_a_minute()
    # when three leads are analysed in the same minute, alternating processes
    results = [
        await _analyze(server, lead)
        for server, lead in zip((pair.here, pair.there, pair.here), leads, strict=True)
    ]
    # then two got the model's answer, the third AI_UNAVAILABLE; the model saw two calls
    assert [r["analysis"]["scorer"] for r in results[:2]] == [MODEL, MODEL]
    assert [e["code"] for e in results[2]["userErrors"]] == ["AI_UNAVAILABLE"]
    assert len(fake_openai.requests) == 2
