"""What an import did (or, on a dry run, would do), row by row and in total."""

from dataclasses import dataclass, field
from enum import Enum

from domain.errors import Problem


class RowStatus(Enum):
    CREATED = "created"
    UPDATED = "updated"  # an existing lead's contact data (onDuplicate UPDATE)
    UNCHANGED = "unchanged"  # imported before, or an update that changes nothing
    SKIPPED = "skipped"  # a duplicate, left out (onDuplicate SKIP)
    DUPLICATE = "duplicate"  # a duplicate, reported and not imported
    INVALID = "invalid"


class DuplicatePolicy(Enum):
    REPORT = "report"
    SKIP = "skip"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class RowError:
    column: str | None  # the CSV header at fault; None for the row as a whole
    message: str


@dataclass(slots=True)
class RowResult:
    line: int
    status: RowStatus
    lead_id: int | None = None  # the lead created, updated or imported before
    matched_lead_id: int | None = None  # the existing lead a duplicate matches
    matched_line: int | None = None  # the earlier row of this file a duplicate matches
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportReport:
    import_id: int | None  # None: nothing was written (a dry run, or all-or-nothing refused)
    dry_run: bool
    applied: bool  # whether the rows were written
    file_sha256: str
    rows_read: int
    counts: dict[RowStatus, int]
    ignored_columns: tuple[str, ...]
    rows: tuple[RowResult, ...]  # the rows that are not plain CREATED, up to the cap
    rows_omitted: int
    refusals: tuple[Problem, ...] = ()  # why nothing was written, when rows were refused

    def count(self, status: RowStatus) -> int:
        return self.counts.get(status, 0)


# What the report, the lead_imports row and the audit entry call each count.
TOTAL_NAMES = {
    RowStatus.CREATED: "created",
    RowStatus.UPDATED: "updated",
    RowStatus.UNCHANGED: "unchanged",
    RowStatus.SKIPPED: "skipped",
    RowStatus.DUPLICATE: "duplicates",
    RowStatus.INVALID: "invalid",
}
