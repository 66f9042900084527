"""The SQL each benchmarked operation costs, pinned: a change that adds a statement or a
round trip to any of them fails here, not months later in a benchmark.

Counted on the wire (bench/pg_wire.py) against a real server with its real settings,
the caller cache included, after a warm-up pass: what a request costs in steady state.
The read path's target is one statement in one round trip (plans/). A mutation's target
is at most 3 round trips, gates, audit and event included: a lead's changes read it and
then write it with all their records in one statement (db/change.py).
"""

from collections.abc import AsyncIterator

import pytest

from bench.contenders import writes_key
from bench.dataset import ensure_dataset
from bench.operations import read_operations
from bench.probe import PerRequest, Probed, probe
from tests.databases import throwaway_database

READS = {
    "list": PerRequest(round_trips=1, statements=1),
    "stage": PerRequest(round_trips=1, statements=1),
    "lead": PerRequest(round_trips=1, statements=1),
    "deep": PerRequest(round_trips=1, statements=1),
    "search": PerRequest(round_trips=1, statements=1),
}


@pytest.fixture(scope="module")
async def probed(database_url: str) -> AsyncIterator[Probed]:
    async with throwaway_database(database_url, "crm_bench_counts") as url:
        dataset = await ensure_dataset(url, leads=300)
        operations = await read_operations(dataset)
        writes = await writes_key(url)
        yield probe(dataset, list(operations.values()), writes)


@pytest.mark.parametrize("operation", sorted(READS))
def test_each_planned_read_is_one_statement(probed: Probed, operation: str) -> None:
    assert probed.ours[operation] == READS[operation]
    assert probed.floor[operation] == PerRequest(round_trips=1, statements=1)


def test_the_pipeline_runs_through_the_executor(probed: Probed) -> None:
    # BEGIN, the tenant, the figures, the stage counts, ROLLBACK: no plan covers it yet
    assert probed.ours["pipeline"] == PerRequest(round_trips=5, statements=5)


def test_each_mutation_is_its_read_and_one_statement(probed: Probed) -> None:
    # in autocommit, on a session already acting for the tenant: the lead's read (none to
    # create one), then the change with its stage history, audit entry, message and event
    assert probed.mutations == {
        "createLead": PerRequest(round_trips=1, statements=1),
        "changeLeadStage": PerRequest(round_trips=2, statements=2),
        "recordLeadMessage": PerRequest(round_trips=2, statements=2),
    }
