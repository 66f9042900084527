"""With a language model, the triggers' deduplication is what the model sees: a burst of
messages and a sweep of the same lead make one model call."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from db.database import Database
from services.background_scoring import queue_stale_leads
from tests.ai.fake_openai import FakeOpenAI, answer, serving_fake_openai
from tests.api.operations import create_lead, database_id
from tests.background.conftest import MakeScoring, RunWorker, age, rescore_jobs
from tests.conftest import GraphQLClient
from tests.factories import record_messages
from tests.webhooks.conftest import eventually

ANSWER = {
    "score": 0.7,
    "recommendation": "transfer_to_sales",
    "reason": "Engaged lead.",
    "factors": [{"name": "engagement", "impact": 0.3, "note": "12 messages"}],
}


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeOpenAI]:
    async with serving_fake_openai() as fake:
        fake.reply = answer(ANSWER)
        yield fake


async def test_a_burst_and_a_sweep_of_one_lead_make_one_model_call(
    gql: GraphQLClient,
    owner: Database,
    scoring: MakeScoring,
    run_worker: RunWorker,
    fake_model: FakeOpenAI,
) -> None:
    # given a stale lead (created 30 hours ago, never analysed)
    lead = await create_lead(gql)
    lead_id = database_id(lead["id"])
    await age(owner, "leads", [lead_id], hours=30)
    # when twelve inbound messages arrive at once, and the sweep runs meanwhile
    await record_messages(gql, lead["id"], 12)
    await queue_stale_leads(scoring(), now=datetime.now(UTC))
    assert [job.lead_id for job in await rescore_jobs(owner)] == [lead_id]
    # and a worker with the model runs
    model = {"base_url": fake_model.base_url, "model": "fake-model", "api_key": "test"}
    async with run_worker(**model):

        async def drained() -> bool:
            return await rescore_jobs(owner) == []

        await eventually(drained, within=30)
    # then the model was asked once, and its answer stored once
    assert len(fake_model.requests) == 1
    async with owner.read() as conn:
        scorers = (
            await conn.execute(
                text("SELECT scorer FROM lead_analyses WHERE lead_id = :id"), {"id": lead_id}
            )
        ).scalars()
        assert list(scorers) == ["openai:fake-model"]
