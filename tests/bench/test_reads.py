"""The read benchmark's runner end to end at a tiny scale (300 leads, runs of a second),
so it cannot rot: both contenders agree, are timed under k6 and counted on the wire, and
the table is printed."""

import os
from collections.abc import AsyncIterator

import pytest

from bench.agreement import same_data
from bench.load import k6_binary
from bench.pinning import Postmaster
from bench.reads import Options, run_benchmark
from bench.report import render
from settings import PROJECT_ROOT
from tests.databases import throwaway_database

pytestmark = pytest.mark.skipif(
    k6_binary() is None, reason="k6 is missing: it comes with the bench extra (.[bench])"
)


@pytest.fixture(scope="module")
async def bench_database(database_url: str) -> AsyncIterator[str]:
    async with throwaway_database(database_url, "crm_bench_reads_runner") as url:
        yield url


def _embedded_postmaster() -> Postmaster | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    return Postmaster.of(PROJECT_ROOT / ".data" / "postgres")


def test_the_runner_times_and_counts_a_read_and_the_mutations(bench_database: str) -> None:
    # given a tiny data set and the shortest runs
    options = Options(
        leads=300, seconds=1, runs=1, warmup_seconds=0, only=("list", "mutations"), vus=4
    )
    # when the whole benchmark runs
    report = run_benchmark(options, bench_database, _embedded_postmaster())
    # then the list was timed on both sides, with no failed answer, and counted
    listed, mutations = report.row("list"), report.row("mutations")
    assert listed is not None
    assert listed.floor is not None
    assert listed.ours.per_second > 0
    assert listed.floor.per_second > 0
    assert (listed.ours.failed, listed.floor.failed) == (0, 0)
    assert listed.floor_wire is not None
    assert round(listed.floor_wire.statements) == 1
    assert listed.ours_wire is not None
    assert listed.ours_wire.statements >= 1
    # and the mutations on ours only, each of the three counted
    assert mutations is not None
    assert mutations.floor is None
    assert mutations.ours.per_second > 0
    assert mutations.ours.failed == 0
    assert set(report.mutations) == {"createLead", "changeLeadStage", "recordLeadMessage"}
    assert {"list", "mutations"} <= set(render(report).split())


def test_answers_agree_when_only_the_last_bits_of_a_float_differ() -> None:
    assert same_data({"a": [1, 0.1 + 0.2, "x"]}, {"a": [1, 0.3, "x"]})
    assert not same_data({"a": 0.3}, {"a": 0.31})
    assert not same_data({"a": True}, {"a": 1})
    assert not same_data({"a": 1}, {"a": 1, "b": None})
