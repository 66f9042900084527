"""`python -m server worker` as a process of its own: it migrates, works, stops cleanly on
SIGTERM, and a worker killed with jobs pending and in flight loses none of them: a new
worker delivers everything, at least once, and a receiver deduplicating by event id ends
up with each event exactly once."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text

from db.database import create_engine
from settings import PROJECT_ROOT
from tests.conftest import GraphQLClient
from tests.databases import throwaway_database
from tests.processes import service_environment
from tests.webhooks.conftest import (
    Receiver,
    create_lead,
    create_webhook,
    deliveries,
    eventually,
    settled,
)

LEADS = 6


# Retries in fractions of a second, and a quick heartbeat so a dead worker is noticed soon.
WORKER_SETTINGS = {
    "CRM_WEBHOOK_ALLOW_PRIVATE": "true",
    "CRM_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "CRM_WEBHOOK_MAX_ATTEMPTS": "5",
    "CRM_WORKER_HEARTBEAT_SECONDS": "0.5",
}


@asynccontextmanager
async def worker_process(
    database_url: str, log: Path, **settings: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m server worker`, started; killed at the end if it still runs."""
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server",
            "worker",
            cwd=PROJECT_ROOT,
            env=service_environment(database_url, **{**WORKER_SETTINGS, **settings}),
            stdout=output,
            stderr=output,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


async def _printed(log: Path, text_wanted: str, process: asyncio.subprocess.Process) -> None:
    async def printed() -> bool:
        assert process.returncode is None, _read(log)[-3000:]
        return text_wanted in _read(log)

    await eventually(printed, within=60)


async def test_a_killed_worker_loses_nothing_a_new_worker_delivers_it_all(
    admin: GraphQLClient, receiver: Receiver, migrated: str, tmp_path: Path
) -> None:
    # given an endpoint that takes its time, and six events for it
    await create_webhook(admin, receiver.endpoint())
    receiver.delay = 5.0
    for number in range(LEADS):
        await create_lead(admin, f"Lead {number}")
    log = tmp_path / "workers.log"
    # when a worker that runs two jobs at a time is killed while both are in flight
    async with worker_process(migrated, log, CRM_WORKER_CONCURRENCY="2") as first:

        async def two_in_flight() -> bool:
            assert first.returncode is None, _read(log)[-3000:]
            return len(receiver.received) >= 2

        await eventually(two_in_flight, within=60)
        first.kill()
        await first.wait()
    in_flight = {r.event_id for r in receiver.received}
    assert len(in_flight) == 2
    pending = [d for d in await deliveries(admin) if d["status"] == "PENDING"]
    assert len(pending) == LEADS  # none was recorded: two in flight, four never started
    # and a new worker starts
    receiver.delay = 0.0
    async with worker_process(migrated, log) as second:
        found = await settled(admin, LEADS)
        # then every delivery got through
        assert {d["status"] for d in found} == {"SUCCEEDED"}
        # and it stops cleanly when told to
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=30) == 0
    # and the receiver has every event: the two that were in flight twice, and after
    # deduplicating by event id, each exactly once
    assert receiver.event_ids() == {d["eventId"] for d in found}
    for event_id in in_flight:
        assert [r.event_id for r in receiver.received].count(event_id) >= 2
    for event_id in receiver.event_ids():
        assert len({r.body for r in receiver.received if r.event_id == event_id}) == 1


async def test_the_worker_command_migrates_first(database_url: str, tmp_path: Path) -> None:
    # given an empty database
    async with throwaway_database(database_url, f"crm_worker_test_{os.getpid()}") as url:
        log = tmp_path / "worker.log"
        # when `python -m server worker` starts on it
        async with worker_process(url, log) as process:
            await _printed(log, "Worker: delivering", process)
            # then the schema and the job queue are there
            engine = create_engine(url, pool_size=1)
            try:
                async with engine.connect() as conn:
                    tables = set(
                        (
                            await conn.execute(
                                text(
                                    "SELECT table_schema || '.' || table_name "
                                    "FROM information_schema.tables"
                                )
                            )
                        ).scalars()
                    )
            finally:
                await engine.dispose()
            assert {"public.webhook_deliveries", "procrastinate.procrastinate_jobs"} <= tables
            # and Ctrl-C stops it cleanly
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
