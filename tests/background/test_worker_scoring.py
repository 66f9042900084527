"""With a worker running, the N-th inbound message leads to a stored analysis, its audit
entry, its LEAD_ANALYZED event and a subscriber's score update: the path of a person's
analyzeLead. Leads that are gone or final are left alone, and a scorer that cannot answer
ends the job without retries."""

import logging
import time

import pytest
from sqlalchemy import text

from db.database import Database
from services.background_scoring import ACTOR
from tests.api.operations import (
    analyze,
    change_stage,
    create_lead,
    database_id,
    ok,
    read_lead,
    record_message,
)
from tests.background.conftest import RunWorker, age, crons_of, rescore_jobs
from tests.conftest import GraphQLClient
from tests.realtime.conftest import Connect, Json
from tests.webhooks.conftest import eventually
from worker.runner import job_app
from worker.tasks import STALE_SWEEP_CRON, STALE_SWEEP_TASK

SCORES = """
subscription Scores($leadId: ID) {
  leadScoreUpdated(leadId: $leadId) {
    eventId previousScore
    lead { id latestAnalysis { id } }
    analysis { id score recommendation }
  }
}"""
WAIT = 30.0  # a worker to start, fetch, score, and the event to travel: generous


async def _inbound(gql: GraphQLClient, lead_id: str, count: int) -> Json:
    """`count` inbound messages, one after another; the lead as the last one left it."""
    for _ in range(count):
        lead: Json = ok(await record_message(gql, lead_id))["lead"]
    return lead


async def _analyses(owner: Database, lead_id: str) -> list[tuple[str, str | None]]:
    """(action, actor) of the lead's analysis audit entries, and of its analyzed events."""
    async with owner.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT 'audit', actor FROM audit_log "
                "WHERE action = 'lead.analyzed' AND entity_id = :id "
                "UNION ALL SELECT 'event', NULL FROM events "
                "WHERE type = 'lead.analyzed' AND lead_id = :id ORDER BY 1"
            ),
            {"id": database_id(lead_id)},
        )
        return [(row[0], row[1]) for row in rows]


async def _queue_drained(owner: Database) -> None:
    """Wait until every scoring job has finished successfully (they are then deleted)."""

    async def drained() -> bool:
        return await rescore_jobs(owner) == []

    await eventually(drained, within=WAIT)


async def test_the_nth_message_is_scored_and_the_subscriber_sees_the_new_score(
    gql: GraphQLClient, owner: Database, connect_ws: Connect, run_worker: RunWorker
) -> None:
    # given a lead, and a subscriber of its scores over a real WebSocket
    lead = await create_lead(gql, source="PARTNER")
    client = await connect_ws()
    subscription = await client.subscribe(SCORES, {"leadId": lead["id"]})
    # when its fifth inbound message arrives and a worker runs
    messaged = await _inbound(gql, lead["id"], 5)
    async with run_worker():
        update = (await client.next_data(subscription, wait=WAIT))["leadScoreUpdated"]
        await _queue_drained(owner)
    # then the subscriber got the new analysis, now the lead's latest
    analysis = update["analysis"]
    assert update["previousScore"] is None
    assert update["lead"] == {"id": lead["id"], "latestAnalysis": {"id": analysis["id"]}}
    stored = await read_lead(gql, lead["id"])
    assert (stored["latestAnalysis"]["id"], stored["latestAnalysis"]["score"]) == (
        analysis["id"],
        analysis["score"],
    )
    # and it was audited as background scoring's, with one LEAD_ANALYZED event
    assert await _analyses(owner, lead["id"]) == [("audit", ACTOR), ("event", None)]
    # and a person's analyzeLead of the same facts reuses it: the same cache
    assert ok(await analyze(gql, lead["id"]))["analysis"]["id"] == analysis["id"]
    # and the lead itself was not changed by it
    assert (stored["stage"], stored["version"]) == ("NEW", messaged["version"])


async def test_a_lead_that_became_final_is_not_scored(
    gql: GraphQLClient, owner: Database, run_worker: RunWorker
) -> None:
    # given a lead queued by its fifth message, then marked LOST before a worker ran
    lead = await create_lead(gql)
    await _inbound(gql, lead["id"], 5)
    ok(await change_stage(gql, lead["id"], "LOST", reason="Went elsewhere"))
    assert len(await rescore_jobs(owner)) == 1
    # when a worker runs
    async with run_worker():
        await _queue_drained(owner)
    # then the job finished without analysing the lead
    assert (await read_lead(gql, lead["id"]))["latestAnalysis"] is None
    assert await _analyses(owner, lead["id"]) == []


async def test_a_scorer_that_cannot_answer_ends_the_job_without_retries(
    gql: GraphQLClient, owner: Database, run_worker: RunWorker, caplog: pytest.LogCaptureFixture
) -> None:
    # given a queued lead, and a model that cannot be reached, with no fallback
    lead = await create_lead(gql)
    await _inbound(gql, lead["id"], 5)
    unreachable = {
        "base_url": "http://127.0.0.1:9/v1",
        "model": "unreachable",
        "api_key": "test",
        "fallback_to_heuristic": False,
        "max_retries": 0,
        "timeout_seconds": 2.0,
    }
    # when a worker runs
    with caplog.at_level(logging.WARNING, logger="services.background_scoring"):
        async with run_worker(**unreachable):
            await _queue_drained(owner)
    # then the job ended as done (not failed, not waiting to be retried), and nothing
    # was stored: the next trigger or sweep tries again
    assert await _analyses(owner, lead["id"]) == []
    assert (await read_lead(gql, lead["id"]))["latestAnalysis"] is None
    logged = [r.getMessage() for r in caplog.records if r.name == "services.background_scoring"]
    assert len(logged) == 1
    assert "AI scorer is unavailable" in logged[0]


def test_the_stale_sweep_is_a_periodic_job_every_ten_minutes(migrated: str) -> None:
    assert crons_of(migrated, STALE_SWEEP_TASK) == [STALE_SWEEP_CRON] == ["*/10 * * * *"]


async def test_the_sweep_job_has_a_stale_lead_scored(
    gql: GraphQLClient, owner: Database, migrated: str, run_worker: RunWorker
) -> None:
    # given an active lead never analysed, created 30 hours ago
    lead = await create_lead(gql)
    await age(owner, "leads", [database_id(lead["id"])], hours=30)
    # when the sweep's time comes (deferred as the periodic deferrer does) and a worker runs
    app = job_app(migrated)
    async with app.open_async():
        await app.tasks[STALE_SWEEP_TASK].defer_async(timestamp=int(time.time()))
    async with run_worker():

        async def scored() -> bool:
            return (await read_lead(gql, lead["id"]))["latestAnalysis"] is not None

        await eventually(scored, within=WAIT)
        await _queue_drained(owner)
    # then it was analysed by background scoring
    assert await _analyses(owner, lead["id"]) == [("audit", ACTOR), ("event", None)]
