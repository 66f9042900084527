"""A planned read that fails on the way is answered by the executor, never as an error:
read connections killed between requests, or in the middle of a statement. Only the
statement timeout is final: the executor would wait as long again."""

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from db.read_pool import APPLICATION_NAME
from domain.global_ids import to_global_id
from settings import Settings
from tests.plans.conftest import (
    PlansDatabase,
    Sent,
    Twins,
    client_of,
    send,
    serving,
    twin_servers,
    twins_for,
)
from worker.runner import libpq_url

LIST = """{ leads(first: 20, orderBy: {field: UPDATED_AT}) {
  edges { cursor node { id name latestAnalysis { score } sale { amount } } }
  pageInfo { hasNextPage endCursor } } }"""
ONE = "query One($id: ID!) { lead(id: $id) { id name stage sale { stage amount } } }"

_READ_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()"
)
_WAITING_READ_BACKENDS = _READ_BACKENDS + " AND wait_event_type = 'Lock'"
_TERMINATE = f"SELECT pg_terminate_backend(pid) FROM ({_READ_BACKENDS}) AS reads"


@dataclass(frozen=True)
class Bed:
    twins: Twins
    owner: asyncpg.Connection
    lead_id: str


@pytest.fixture(scope="module")
async def bed(plans_database: PlansDatabase, settings: Settings) -> AsyncIterator[Bed]:
    owner = await asyncpg.connect(libpq_url(plans_database.url))
    try:
        async with (
            twin_servers(settings, plans_database.url) as servers,
            twins_for(servers, plans_database.dataset.admin_key) as twins,
        ):
            yield Bed(twins, owner, to_global_id("Lead", plans_database.odd_lead_ids[0]))
    finally:
        await owner.close()


async def _read_backends(owner: asyncpg.Connection) -> int:
    return len(await owner.fetch(_READ_BACKENDS, APPLICATION_NAME))


async def test_killed_read_connections_are_not_an_error(bed: Bed) -> None:
    # given: the executor's answers, and a read pool in use
    expected_list = (await bed.twins.both(LIST))[1]
    expected_one = (await bed.twins.both(ONE, {"id": bed.lead_id}))[1]
    await bed.twins.same(LIST)
    assert await _read_backends(bed.owner) >= 1

    for _round in range(3):
        # when: every read connection is killed, then reads come at once
        await bed.owner.execute(_TERMINATE, APPLICATION_NAME)
        answers = await asyncio.gather(
            *(send(bed.twins.planned, LIST) for _ in range(6)),
            *(send(bed.twins.planned, ONE, {"id": bed.lead_id}) for _ in range(6)),
        )

        # then: each is answered as the executor answers it
        assert answers == [expected_list] * 6 + [expected_one] * 6

    # and the pool has connected again
    assert await _read_backends(bed.owner) >= 1


async def test_a_statement_cut_off_midway_is_answered_by_the_executor(
    bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    expected = (await bed.twins.both(ONE, {"id": bed.lead_id}))[1]
    caplog.set_level(logging.WARNING, logger="plans.runner")

    # given: the leads table locked, so a planned read waits in its statement
    async with bed.owner.transaction():
        await bed.owner.execute("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE")
        asked = asyncio.create_task(send(bed.twins.planned, ONE, {"id": bed.lead_id}))
        await _until_a_read_waits(bed.owner)

        # when: its connection is killed in the middle of the statement
        await bed.owner.execute(_TERMINATE, APPLICATION_NAME)
        await asyncio.sleep(0.2)  # the executor now waits for the lock too

    # then: the executor answered, exactly as it would have
    answer: Sent = await asyncio.wait_for(asked, timeout=10)
    assert answer == expected
    assert "a planned read failed" in caplog.text


async def test_a_planned_read_stopped_by_the_statement_timeout_is_answered_timeout(
    plans_database: PlansDatabase, settings: Settings, bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="plans.runner")
    impatient = dataclasses.replace(settings, statement_timeout_ms=300)
    async with (
        serving(impatient, plans_database.url) as server,
        client_of(server, plans_database.dataset.admin_key) as client,
    ):
        await send(client, ONE, {"id": bed.lead_id})  # a read connection is open

        # given: the leads table locked, so a planned read waits in its statement
        async with bed.owner.transaction():
            await bed.owner.execute("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE")
            asked = asyncio.create_task(send(client, ONE, {"id": bed.lead_id}))
            # when: the statement timeout stops it
            answer: Sent = await asyncio.wait_for(asked, timeout=10)

    # then: the answer is TIMEOUT, and the executor never tried again
    assert [error["extensions"]["code"] for error in answer.json()["errors"]] == ["TIMEOUT"]
    assert "a planned read failed" not in caplog.text


async def _until_a_read_waits(owner: asyncpg.Connection) -> None:
    for _ in range(300):
        if await owner.fetch(_WAITING_READ_BACKENDS, APPLICATION_NAME):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no planned read came to wait for the lock")
