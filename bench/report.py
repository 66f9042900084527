"""The read benchmark's results: medians over the timed runs of each operation, the
wire counts, and the table `python -m bench.reads` prints."""

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.load import Measured
from bench.probe import PerRequest, Probed


@dataclass(frozen=True)
class Summary:
    """One contender on one operation: the median of each figure over the runs."""

    runs: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    pg_cpu_ms: float | None
    failed: int  # over all runs

    @classmethod
    def of(cls, runs: Sequence[Measured]) -> "Summary":
        pg = [run.pg_cpu_ms for run in runs if run.pg_cpu_ms is not None]
        return cls(
            runs=len(runs),
            per_second=statistics.median(run.per_second for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            cpu_ms=statistics.median(run.cpu_ms for run in runs),
            pg_cpu_ms=statistics.median(pg) if pg else None,
            failed=sum(run.failed for run in runs),
        )


@dataclass(frozen=True)
class Row:
    operation: str
    ours: Summary
    floor: Summary | None  # None: no floor (the mutations)
    ours_wire: PerRequest | None = None
    floor_wire: PerRequest | None = None
    strict: Summary | None = None  # the strict floor, when it was timed

    @property
    def ratio(self) -> float | None:
        """Our requests/s over the floor's."""
        return _ratio(self.ours, self.floor)

    @property
    def strict_ratio(self) -> float | None:
        """Our requests/s over the strict floor's."""
        return _ratio(self.ours, self.strict)


def _ratio(ours: Summary, floor: Summary | None) -> float | None:
    if floor is None or not floor.per_second:
        return None
    return ours.per_second / floor.per_second


@dataclass(frozen=True)
class Report:
    leads: int
    vus: int
    seconds: float
    runs: int
    setup: list[str]  # how it ran: pinning, database
    rows: list[Row]
    mutations: dict[str, PerRequest] = field(default_factory=dict)

    def row(self, operation: str) -> Row | None:
        return next((row for row in self.rows if row.operation == operation), None)

    def deep_over_first(self, contender: str) -> float | None:
        """The deep page's p50 over the first page's (the list's), for "ours" or "floor"."""
        deep, first = self.row("deep"), self.row("list")
        if deep is None or first is None:
            return None
        deep_summary, first_summary = getattr(deep, contender), getattr(first, contender)
        if deep_summary is None or first_summary is None or not first_summary.p50_ms:
            return None
        return float(deep_summary.p50_ms / first_summary.p50_ms)


def with_wire_counts(rows: list[Row], probed: Probed) -> list[Row]:
    return [
        dataclasses.replace(
            row,
            ours_wire=probed.ours.get(row.operation),
            floor_wire=probed.floor.get(row.operation),
        )
        for row in rows
    ]


_HEADER = (
    "operation",
    "ours req/s",
    "floor req/s",
    "ratio",
    "strict floor req/s",
    "ratio to strict",
    "ours p50/p99 ms",
    "floor p50/p99 ms",
    "ours CPU ms/req (server+PG)",
    "floor CPU ms/req (server+PG)",
    "round trips/req ours/floor",
    "statements/req ours/floor",
)


def render(report: Report) -> str:
    """The table, then the deep page against the first, the mutations one by one, and
    any failed answers."""
    lines = [
        f"Reads at {report.leads:,} leads: {report.vus} virtual users, "
        f"{report.runs} runs of {report.seconds:g} s per contender (medians)",
        *(f"  {note}" for note in report.setup),
        "",
        *_table([_HEADER, *(_cells(row) for row in report.rows)]),
    ]
    lines += _deep_page(report) + _mutations(report) + _failures(report)
    return "\n".join(lines)


def _cells(row: Row) -> tuple[str, ...]:
    ours, floor = row.ours, row.floor
    return (
        row.operation,
        f"{ours.per_second:,.0f}",
        "—" if floor is None else f"{floor.per_second:,.0f}",
        "—" if row.ratio is None else f"{row.ratio:.2f}",
        "—" if row.strict is None else f"{row.strict.per_second:,.0f}",
        "—" if row.strict_ratio is None else f"{row.strict_ratio:.2f}",
        _latency(ours),
        "—" if floor is None else _latency(floor),
        _cpu(ours),
        "—" if floor is None else _cpu(floor),
        _wire(row, "round_trips"),
        _wire(row, "statements"),
    )


def _latency(summary: Summary) -> str:
    return f"{summary.p50_ms:.2f} / {summary.p99_ms:.2f}"


def _cpu(summary: Summary) -> str:
    pg = "?" if summary.pg_cpu_ms is None else f"{summary.pg_cpu_ms:.2f}"
    return f"{summary.cpu_ms:.2f} + {pg}"


def _wire(row: Row, figure: str) -> str:
    ours = "?" if row.ours_wire is None else f"{getattr(row.ours_wire, figure):.1f}"
    floor = "—" if row.floor_wire is None else f"{getattr(row.floor_wire, figure):.1f}"
    return f"{ours} / {floor}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def _deep_page(report: Report) -> list[str]:
    ours, floor = report.deep_over_first("ours"), report.deep_over_first("floor")
    if ours is None:
        return []
    floor_text = "" if floor is None else f" (floor: {floor:.2f}x)"
    return ["", f"Deep page p50 / first page p50: {ours:.2f}x{floor_text}"]


def _mutations(report: Report) -> list[str]:
    if not report.mutations:
        return []
    lines = ["", "Mutations, each on its own (per request):"]
    for name, counts in report.mutations.items():
        lines.append(
            f"  {name}: {counts.round_trips:.1f} round trips, {counts.statements:.1f} statements"
        )
    return lines


def _failures(report: Report) -> list[str]:
    failed = [
        f"{row.operation} ({contender})"
        for row in report.rows
        for contender, summary in (
            ("ours", row.ours),
            ("floor", row.floor),
            ("strict floor", row.strict),
        )
        if summary is not None and summary.failed
    ]
    return ["", "FAILED ANSWERS under load: " + ", ".join(failed)] if failed else []
