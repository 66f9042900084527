"""Deliveries are made in the transaction of their event: both commit, or neither does, and
each comes with the job that will attempt it. The app role reaches the job queue only
through the one function made for it."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.queries import webhooks as webhook_rows
from db.tenancy import acting_for
from domain.access import Role
from domain.events import EventType
from services import events
from services.scope import Scope
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import create_lead, create_webhook, deliveries

SCOPE = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
JOBS = (
    "SELECT queue_name, task_name, status, args FROM procrastinate.procrastinate_jobs ORDER BY id"
)


async def _counts(owner: Database) -> tuple[int, int, int]:
    async with owner.read() as conn:
        found = await conn.execute(
            text(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM webhook_deliveries), "
                "(SELECT count(*) FROM procrastinate.procrastinate_jobs)"
            )
        )
        event_count, delivery_count, job_count = found.one()
    return event_count, delivery_count, job_count


async def test_a_committed_event_has_its_delivery_and_the_job_for_it(
    admin: GraphQLClient, owner: Database
) -> None:
    # given an endpoint for new leads
    await create_webhook(admin, "http://127.0.0.1:9/hook")
    # when a lead is created (and no worker runs)
    await create_lead(admin)
    # then the event, one pending delivery, and one job to attempt it are there
    [delivery] = await deliveries(admin)
    assert (delivery["status"], delivery["attempts"]) == ("PENDING", 0)
    async with owner.read() as conn:
        [job] = (await conn.execute(text(JOBS))).all()
    assert (job.queue_name, job.task_name, job.status) == ("webhooks", "webhooks.deliver", "todo")
    assert job.args["tenant_id"] == DEFAULT_TENANT_ID
    assert job.args["attempt"] == 1
    assert await _counts(owner) == (1, 1, 1)


async def test_a_rolled_back_event_leaves_no_delivery_and_no_job(
    admin: GraphQLClient, app_db: Database, owner: Database
) -> None:
    # given an endpoint for new leads
    await create_webhook(admin, "http://127.0.0.1:9/hook")
    # when an event is recorded (with its delivery) in a transaction that then fails
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(RuntimeError, match="after the event"):
        await _record_then_fail(app_db)
    # then nothing of it is left: no event, no delivery, no job
    assert await _counts(owner) == (0, 0, 0)


async def _record_then_fail(app_db: Database) -> None:
    async with app_db.transaction() as conn:
        await events.record(conn, SCOPE, EventType.LEAD_CREATED, lead_id=1, data={})
        made = await conn.execute(text("SELECT count(*) FROM webhook_deliveries"))
        assert made.scalar_one() == 1
        raise RuntimeError("the change fails after the event")


async def test_a_refused_mutation_makes_no_delivery(admin: GraphQLClient, owner: Database) -> None:
    # given an endpoint for stage changes, and a new lead
    await create_webhook(admin, "http://127.0.0.1:9/hook", ["LEAD_STAGE_CHANGED"])
    lead_id = await create_lead(admin)
    # when a stage change is refused (NEW cannot jump to QUALIFIED)
    body = await admin.data(
        "mutation($id: ID!) { changeLeadStage(input: {leadId: $id, stage: QUALIFIED}) "
        "{ userErrors { code } } }",
        {"id": lead_id},
    )
    assert body["changeLeadStage"]["userErrors"] == [{"code": "INVALID_TRANSITION"}]
    # then there is no delivery and no job
    assert await deliveries(admin) == []
    assert await _counts(owner) == (1, 0, 0)


async def test_the_app_role_cannot_touch_the_job_queue_itself(app_db: Database) -> None:
    # when the app role reads or writes procrastinate's tables, it is refused
    for statement in (
        "SELECT count(*) FROM procrastinate.procrastinate_jobs",
        "DELETE FROM procrastinate.procrastinate_jobs",
    ):
        with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="permission denied"):
            async with app_db.transaction() as conn:
                await conn.execute(text(statement))


async def test_the_defer_function_refuses_another_tenant_than_the_acting_one(
    app_db: Database,
) -> None:
    # when the app role, acting for one tenant, defers deliveries of another
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="acting for another"):
        async with app_db.transaction() as conn:
            await webhook_rows.defer_attempts(
                conn, tenant_id=DEFAULT_TENANT_ID + 1000, delivery_ids=[1], attempt=1
            )
