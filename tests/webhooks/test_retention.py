"""The worker prunes the event journal every hour, as a procrastinate periodic job: old
events go, `event_retention.pruned_through` moves past them, and finished deliveries of
their age go too."""

import base64
import time
from datetime import timedelta

from sqlalchemy import text

from db.database import Database
from services.webhooks import deliveries as webhook_deliveries
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import (
    Receiver,
    RunWorker,
    create_lead,
    create_webhook,
    deliveries,
    eventually,
    settled,
)
from worker.runner import job_app
from worker.tasks import DELIVERY_TASK, RETENTION_CRON, RETENTION_TASK


async def _scalar(owner: Database, statement: str) -> int:
    async with owner.read() as conn:
        return int((await conn.execute(text(statement))).scalar_one())


async def _age(owner: Database, table: str, ids: list[int], days: int) -> None:
    column = "occurred_at" if table == "events" else "created_at"
    async with owner.transaction() as conn:
        await conn.execute(
            text(
                f"UPDATE {table} SET {column} = now() - make_interval(days => :days) "
                "WHERE id = ANY(:ids)"
            ),
            {"days": days, "ids": ids},
        )


def test_retention_is_a_periodic_job_of_the_worker(migrated: str) -> None:
    app = job_app(migrated)
    periodic = [
        task
        for task in app.periodic_registry.periodic_tasks.values()
        if task.task.name == RETENTION_TASK
    ]
    assert [task.cron for task in periodic] == [RETENTION_CRON]


async def test_the_periodic_job_removes_old_events_and_records_how_far_it_went(
    admin: GraphQLClient, owner: Database, migrated: str, run_worker: RunWorker
) -> None:
    # given three events, the first two older than the 7 days kept
    for name in ("Old 1", "Old 2", "New"):
        await create_lead(admin, name)
    async with owner.read() as conn:
        ids = list((await conn.execute(text("SELECT id FROM events ORDER BY id"))).scalars())
    await _age(owner, "events", ids[:2], days=30)
    before = await _scalar(owner, "SELECT pruned_through FROM event_retention")
    # when its time comes (deferred as the periodic deferrer does) and a worker runs
    app = job_app(migrated)
    async with app.open_async():
        await app.tasks[RETENTION_TASK].defer_async(timestamp=int(time.time()))
    async with run_worker():

        async def pruned() -> bool:
            return await _scalar(owner, "SELECT count(*) FROM events") == 1

        await eventually(pruned)
    # then only the new event is left, and retention records the newest id it removed
    assert await _scalar(owner, "SELECT min(id) FROM events") == ids[2]
    after = await _scalar(owner, "SELECT pruned_through FROM event_retention")
    assert after == max(before, ids[1])
    assert after > ids[0]


async def test_only_finished_deliveries_of_that_age_are_removed(
    admin: GraphQLClient, owner: Database
) -> None:
    # given three deliveries: an old failed one, an old pending one, a new failed one
    await create_webhook(admin, "http://127.0.0.1:9/hook")
    for name in ("A", "B", "C"):
        await create_lead(admin, name)
    assert len(await deliveries(admin)) == 3
    async with owner.read() as conn:
        ids = list(
            (await conn.execute(text("SELECT id FROM webhook_deliveries ORDER BY id"))).scalars()
        )
    async with owner.transaction() as conn:
        await conn.execute(
            text("UPDATE webhook_deliveries SET status = 'failed' WHERE id = ANY(:ids)"),
            {"ids": [ids[0], ids[2]]},
        )
    await _age(owner, "webhook_deliveries", ids[:2], days=30)
    # when retention runs
    removed = await webhook_deliveries.prune(owner, keep=timedelta(days=7))
    # then only the old failed one is gone
    assert removed == 1
    async with owner.read() as conn:
        left = list(
            (await conn.execute(text("SELECT id FROM webhook_deliveries ORDER BY id"))).scalars()
        )
    assert left == ids[1:]


async def test_a_pending_delivery_that_lost_its_job_gets_one_again(
    admin: GraphQLClient, owner: Database, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given a pending delivery, overdue for hours, whose job is gone (it gave up on errors)
    await create_webhook(admin, receiver.endpoint())
    await create_lead(admin)
    async with owner.transaction() as conn:
        # procrastinate's triggers name its tables unqualified (see worker/queue_schema.py)
        await conn.execute(text("SET LOCAL search_path TO procrastinate"))
        await conn.execute(text("DELETE FROM procrastinate_jobs"))
    [delivery] = await deliveries(admin)
    await _age(owner, "webhook_deliveries", [_db_id(delivery["id"])], days=1)
    # when the hourly job looks for such deliveries
    requeued = await webhook_deliveries.requeue_stranded(owner, task_name=DELIVERY_TASK)
    again = await webhook_deliveries.requeue_stranded(owner, task_name=DELIVERY_TASK)
    # then it gets a job (once), and a worker delivers it
    assert (requeued, again) == (1, 0)
    async with run_worker():
        [done] = await settled(admin, 1)
    assert done["status"] == "SUCCEEDED"
    assert len(receiver.received) == 1


def _db_id(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id + "==").decode().split(":")[1])
