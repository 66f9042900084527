"""Every N-th inbound message queues the lead's re-analysis, in the message's transaction;
one job waits per lead however many messages arrive."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from settings import Settings
from tests.api.operations import create_lead, database_id, ok, record_message
from tests.background.conftest import Job, rescore_jobs, with_ai
from tests.conftest import GraphQLClient, StatementCounter, bearer, start_server
from tests.factories import record_messages


async def _messages(gql: GraphQLClient, lead_id: str, count: int, direction: str) -> None:
    for _ in range(count):
        ok(await record_message(gql, lead_id, direction=direction))


async def test_the_fifth_inbound_message_queues_one_job(
    gql: GraphQLClient, owner: Database
) -> None:
    # given a lead with four inbound messages (the default: every 5th)
    lead = await create_lead(gql)
    await _messages(gql, lead["id"], 4, "INBOUND")
    assert await rescore_jobs(owner) == []
    # when the fifth arrives
    await _messages(gql, lead["id"], 1, "INBOUND")
    # then one job waits to score that lead for its tenant, below webhook deliveries
    lead_id = database_id(lead["id"])
    assert await rescore_jobs(owner) == [
        Job("ai", -1, "todo", f"rescore:{lead_id}", DEFAULT_TENANT_ID, lead_id)
    ]


async def test_outbound_messages_do_not_count(gql: GraphQLClient, owner: Database) -> None:
    # given a lead with four inbound and six outbound messages
    lead = await create_lead(gql)
    await _messages(gql, lead["id"], 4, "INBOUND")
    await _messages(gql, lead["id"], 6, "OUTBOUND")
    # then nothing is queued: ten messages, but four inbound
    assert await rescore_jobs(owner) == []
    # when the fifth inbound one arrives, then the lead is queued
    await _messages(gql, lead["id"], 1, "INBOUND")
    assert [job.lead_id for job in await rescore_jobs(owner)] == [database_id(lead["id"])]


async def test_a_burst_of_messages_leaves_one_waiting_job(
    gql: GraphQLClient, owner: Database
) -> None:
    # given two leads
    busy = await create_lead(gql, name="Busy")
    other = await create_lead(gql, name="Other")
    # when twelve inbound messages arrive at once for one (the 5th and the 10th trigger)
    # and five for the other
    await record_messages(gql, busy["id"], 12)
    await record_messages(gql, other["id"], 5)
    # then each lead has exactly one waiting job
    jobs = await rescore_jobs(owner)
    assert sorted(job.lead_id for job in jobs) == sorted(
        [database_id(busy["id"]), database_id(other["id"])]
    )
    assert {job.status for job in jobs} == {"todo"}


async def test_a_job_under_way_does_not_stop_the_next_one_being_queued(
    gql: GraphQLClient, owner: Database
) -> None:
    # given a lead whose job a worker has taken (doing, no longer waiting)
    lead = await create_lead(gql)
    await record_messages(gql, lead["id"], 5)
    async with owner.transaction() as conn:
        await conn.exec_driver_sql("SET LOCAL search_path TO procrastinate")  # its triggers'
        await conn.exec_driver_sql("UPDATE procrastinate_jobs SET status = 'doing'")
    # when five more inbound messages arrive
    await record_messages(gql, lead["id"], 5)
    # then a second job waits: the one under way may have read the lead before them
    assert [job.status for job in await rescore_jobs(owner)] == ["doing", "todo"]


async def test_zero_turns_the_message_trigger_off(
    settings: Settings, migrated: str, admin_key: str, owner: Database
) -> None:
    # given a server with CRM_AI_RESCORE_EVERY_MESSAGES=0
    server = await start_server(with_ai(settings, rescore_every_messages=0), migrated)
    try:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, headers=bearer(admin_key)
        ) as http:
            gql = GraphQLClient(http)
            # when a lead gets ten inbound messages
            lead = await create_lead(gql)
            await _messages(gql, lead["id"], 10, "INBOUND")
    finally:
        await server.stop()
    # then nothing is queued
    assert await rescore_jobs(owner) == []


async def test_the_queueing_function_refuses_another_tenant_than_the_acting_one(
    app_db: Database,
) -> None:
    # when the app role, acting for one tenant, queues a lead of another
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="acting for another"):
        async with app_db.transaction() as conn:
            await conn.execute(
                text("SELECT public.crm_defer_rescoring(:tenant, ARRAY[1]::bigint[])"),
                {"tenant": DEFAULT_TENANT_ID + 1000},
            )


async def test_an_inbound_message_costs_no_statement_more_than_an_outbound_one(
    gql: GraphQLClient, count_statements: StatementCounter
) -> None:
    # given a lead
    lead = await create_lead(gql)
    # when one outbound, then one inbound message is recorded
    before = count_statements.count
    await _messages(gql, lead["id"], 1, "OUTBOUND")
    outbound = count_statements.count - before
    await _messages(gql, lead["id"], 1, "INBOUND")
    inbound = count_statements.count - before - outbound
    # then counting, and queueing when due, are parts of the statement that records it
    assert inbound == outbound
