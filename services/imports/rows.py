"""Checking one CSV row: the lead it describes, or every problem with it by column.

A row is a historical fact: an open lead (STAGE new/contacted/qualified), or a closed one
with its OUTCOME (won: transferred with a paid sale; lost: at STAGE, with LOST_REASON).
Contact fields are checked exactly as createLead checks them (services/validation.py).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.enums import LeadSource, LeadStage
from domain.lifecycle import days_since
from domain.outcomes import WON_FROM_STAGE, OutcomeResult
from services.ai import ScoringInput
from services.imports.columns import ColumnMap, ImportField, header_key
from services.imports.parsing import SourceRow
from services.imports.report import RowError
from services.validation import Checks

OPEN_STAGES = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED)
DEFAULT_LOST_REASON = "Imported as lost"
MAX_MESSAGE_COUNT = 1_000_000
_MAX_COUNT_DIGITS = len(str(MAX_MESSAGE_COUNT))
EARLIEST_YEAR = 1900  # an earlier moment is a typo (and near year 1 may have no UTC form)
_OUTCOMES = {
    "won": OutcomeResult.WIN,
    "win": OutcomeResult.WIN,
    "lost": OutcomeResult.LOSS,
    "loss": OutcomeResult.LOSS,
}
_SOURCES = {header_key(source.value): source for source in LeadSource}
_CASE_INSENSITIVE = frozenset(
    {ImportField.EMAIL, ImportField.SOURCE, ImportField.STAGE, ImportField.OUTCOME}
)


@dataclass(frozen=True, slots=True)
class ImportedLead:
    """A valid row: the lead to bring in, as it stands now and as it stood when decided."""

    line: int
    fingerprint: str
    name: str
    source: LeadSource
    email: str | None
    phone: str | None
    company: str | None
    business_domain: str | None
    stage: LeadStage  # what the lead is imported as
    decided_at: LeadStage  # closed: the last stage before the close; open: its stage
    stage_given: bool
    message_count: int
    created_at: datetime
    closed_at: datetime | None
    outcome: OutcomeResult | None
    lost_reason: str | None
    amount: Decimal | None
    currency: str | None

    def contact_fields(self) -> dict[str, str]:
        """The contact data the row gives (blank cells give nothing)."""
        values = {
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "company": self.company,
            "business_domain": self.business_domain,
        }
        return {name: value for name, value in values.items() if value is not None}

    def features(self) -> ScoringInput:
        """What a scorer would have seen just before the lead was decided."""
        closed = self.closed_at or self.created_at
        return ScoringInput(
            source=self.source,
            stage=self.decided_at,
            message_count=self.message_count,
            has_business_domain=self.business_domain is not None,
            business_domain=self.business_domain,
            days_since_created=days_since(self.created_at, now=closed),
        )


def contact_keys(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """What duplicates are matched on: the e-mail in lower case, the phone's digits."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return (email.lower() if email else None, digits or None)


class _Row:
    """The cells of one row by field, with the checks that collect its problems."""

    def __init__(self, row: SourceRow, columns: ColumnMap) -> None:
        self.row = row
        self.columns = columns
        self.checks = Checks()

    def cell(self, field: ImportField) -> str | None:
        if field not in self.columns.columns:
            return None
        position = self.columns.columns[field][0]
        value = self.row.cells[position].strip() if position < len(self.row.cells) else ""
        return value or None

    def at(self, field: ImportField) -> tuple[str, ...]:
        return (self.columns.header_of(field),) if field in self.columns.columns else ()

    def fail(self, field: ImportField, message: str) -> None:
        self.checks.fail(self.at(field), message)

    def errors(self) -> list[RowError]:
        return [RowError(p.field[0] if p.field else None, p.message) for p in self.checks.problems]


def check_row(
    row: SourceRow, columns: ColumnMap, *, now: datetime
) -> ImportedLead | list[RowError]:
    """The row's lead, or every problem found in it."""
    cells = _Row(row, columns)
    if any(cell.strip() for cell in row.cells[columns.width :]):
        cells.checks.fail(
            (), f"The row has more cells than the header has columns ({columns.width})."
        )
    checks = cells.checks
    name = checks.text(
        cells.cell(ImportField.NAME), cells.at(ImportField.NAME), max_length=200, required=True
    )
    email = checks.email(cells.cell(ImportField.EMAIL), cells.at(ImportField.EMAIL))
    phone = checks.phone(cells.cell(ImportField.PHONE), cells.at(ImportField.PHONE))
    company = checks.text(
        cells.cell(ImportField.COMPANY), cells.at(ImportField.COMPANY), max_length=200
    )
    business_domain = checks.text(
        cells.cell(ImportField.BUSINESS_DOMAIN),
        cells.at(ImportField.BUSINESS_DOMAIN),
        max_length=100,
    )
    source = _source(cells)
    outcome = _outcome(cells)
    stage, decided_at = _stages(cells, outcome)
    created_at = _moment(cells, ImportField.CREATED_AT, now) or now
    closed_at = _closed_at(cells, outcome, created_at, now)
    lost_reason = _lost_reason(cells, outcome)
    amount, currency = _amount(cells, outcome)
    message_count = _message_count(cells)
    if checks.problems or name is None or source is None:
        return cells.errors()
    return ImportedLead(
        line=row.line,
        fingerprint=fingerprint(cells),
        name=name,
        source=source,
        email=email,
        phone=phone,
        company=company,
        business_domain=business_domain,
        stage=stage,
        decided_at=decided_at,
        stage_given=cells.cell(ImportField.STAGE) is not None,
        message_count=message_count,
        created_at=created_at,
        closed_at=closed_at,
        outcome=outcome,
        lost_reason=lost_reason,
        amount=amount,
        currency=currency,
    )


def fingerprint(cells: _Row) -> str:
    """SHA-256 of the row's mapped values, normalised: the same facts give the same
    fingerprint whatever the column order, header spelling or letter case."""
    values: dict[str, str] = {}
    for field in ImportField:
        value = cells.cell(field)
        if value is None:
            continue
        if field in _CASE_INSENSITIVE:
            value = value.casefold()
        if field is ImportField.PHONE:
            value = "".join(c for c in value if c.isdigit() or c == "+")
        values[field.value] = " ".join(value.split())
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def _source(cells: _Row) -> LeadSource | None:
    value = cells.cell(ImportField.SOURCE)
    if value is None:
        cells.fail(ImportField.SOURCE, "This field is required.")
        return None
    source = _SOURCES.get(header_key(value))
    if source is None:
        allowed = ", ".join(s.value for s in LeadSource)
        cells.fail(ImportField.SOURCE, f"Unknown source {value!r}; use one of: {allowed}.")
    return source


def _outcome(cells: _Row) -> OutcomeResult | None:
    value = cells.cell(ImportField.OUTCOME)
    if value is None:
        return None
    outcome = _OUTCOMES.get(value.casefold())
    if outcome is None:
        cells.fail(
            ImportField.OUTCOME, f"Unknown outcome {value!r}; use won, lost, or leave it blank."
        )
    return outcome


def _stages(cells: _Row, outcome: OutcomeResult | None) -> tuple[LeadStage, LeadStage]:
    """(the stage imported, the stage decided at). A won lead was decided at
    WON_FROM_STAGE; a lost one at STAGE (default new); an open one is at STAGE."""
    value = cells.cell(ImportField.STAGE)
    stage = _stage_named(cells, value)
    if outcome is OutcomeResult.WIN:
        if stage not in (None, WON_FROM_STAGE, LeadStage.TRANSFERRED):
            cells.fail(
                ImportField.STAGE, "A won lead was transferred from qualified; leave STAGE blank."
            )
        return LeadStage.TRANSFERRED, WON_FROM_STAGE
    if stage in (LeadStage.LOST, LeadStage.TRANSFERRED):
        outcome_name = "lost" if stage is LeadStage.LOST else "won"
        cells.fail(
            ImportField.STAGE,
            f"For a {stage.value} lead set OUTCOME to {outcome_name}"
            " (and STAGE to the stage it was at before, or blank).",
        )
        stage = None
    at = stage or LeadStage.NEW
    if outcome is OutcomeResult.LOSS:
        return LeadStage.LOST, at
    return at, at


def _stage_named(cells: _Row, value: str | None) -> LeadStage | None:
    if value is None:
        return None
    for stage in LeadStage:
        if stage.value == value.casefold():
            return stage
    allowed = ", ".join(s.value for s in OPEN_STAGES)
    cells.fail(ImportField.STAGE, f"Unknown stage {value!r}; use one of: {allowed}.")
    return None


def _moment(cells: _Row, field: ImportField, now: datetime) -> datetime | None:
    value = cells.cell(field)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        cells.fail(field, f"{value!r} is not an ISO date (2024-03-31) or date-time.")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a plain date or time is taken as UTC
    if moment > now:
        cells.fail(field, "This moment is in the future.")
        return None
    in_utc = _in_utc(moment)
    if in_utc is None or in_utc.year < EARLIEST_YEAR:
        cells.fail(field, f"Give a moment from the year {EARLIEST_YEAR} on.")
        return None
    return in_utc


def _in_utc(moment: datetime) -> datetime | None:
    """The moment in UTC, as the database stores it; None when that is out of range
    (0001-01-01T00:00:00+05:00 is in year 0 in UTC, which Python has not)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _closed_at(
    cells: _Row, outcome: OutcomeResult | None, created_at: datetime, now: datetime
) -> datetime | None:
    closed_at = _moment(cells, ImportField.CLOSED_AT, now)
    if outcome is None:
        if closed_at is not None:
            cells.fail(
                ImportField.CLOSED_AT, "Only a closed lead (with an OUTCOME) has a close date."
            )
        return None
    closed_at = closed_at or now
    if closed_at < created_at:
        cells.fail(ImportField.CLOSED_AT, "A lead cannot close before it was created.")
    return closed_at


def _lost_reason(cells: _Row, outcome: OutcomeResult | None) -> str | None:
    value = cells.checks.text(
        cells.cell(ImportField.LOST_REASON),
        cells.at(ImportField.LOST_REASON),
        max_length=1000,
        multiline=True,
    )
    if outcome is OutcomeResult.LOSS:
        return value or DEFAULT_LOST_REASON
    if value is not None:
        cells.fail(ImportField.LOST_REASON, "Only a lost lead (OUTCOME lost) has a lost reason.")
    return None


def _amount(cells: _Row, outcome: OutcomeResult | None) -> tuple[Decimal | None, str | None]:
    """A won lead's paid sale needs its amount; nothing else has one."""
    raw_amount, raw_currency = cells.cell(ImportField.AMOUNT), cells.cell(ImportField.CURRENCY)
    if outcome is not OutcomeResult.WIN:
        for field, raw in ((ImportField.AMOUNT, raw_amount), (ImportField.CURRENCY, raw_currency)):
            if raw is not None:
                cells.fail(field, "Only a won lead (OUTCOME won) has a sale amount or currency.")
        return None, None
    currency = cells.checks.currency(raw_currency, cells.at(ImportField.CURRENCY))
    if raw_amount is None:
        cells.fail(ImportField.AMOUNT, "A won lead's sale was paid: give its AMOUNT.")
        return None, currency
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation:
        cells.fail(ImportField.AMOUNT, f"{raw_amount!r} is not a number (like 1250.00).")
        return None, currency
    return cells.checks.amount(amount, cells.at(ImportField.AMOUNT)), currency


def _message_count(cells: _Row) -> int:
    value = cells.cell(ImportField.MESSAGE_COUNT)
    if value is None:
        return 0
    # ASCII digits only: str.isdigit() takes "²", which int() refuses, and int() refuses
    # strings of over 4,300 digits too
    digits = value.isascii() and value.isdigit() and len(value) <= _MAX_COUNT_DIGITS
    if not digits or int(value) > MAX_MESSAGE_COUNT:
        cells.fail(ImportField.MESSAGE_COUNT, f"Give a whole number from 0 to {MAX_MESSAGE_COUNT}.")
        return 0
    return int(value)
