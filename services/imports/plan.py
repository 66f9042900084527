"""Deciding what each row does, before anything is written: a dry run reports the plan,
a real run carries it out, so both report the same.

A row is UNCHANGED when its fingerprint was imported before (or appeared earlier in this
file). Otherwise it is a duplicate when its e-mail (any case) or phone (its digits)
matches a lead of the tenant or a row this file imports earlier; the policy then says
whether it is reported, skipped, or merged into that lead (open leads only, never a
stage backwards).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from db.records import LeadRecord
from domain.enums import LeadStage
from services.imports.report import DuplicatePolicy, RowError, RowResult, RowStatus
from services.imports.rows import OPEN_STAGES, ImportedLead, contact_keys

CONTACT_FIELDS = ("name", "email", "phone", "company", "business_domain")


@dataclass(slots=True)
class Target:
    """A lead rows may land on: an existing one, or one an earlier row of the file creates
    (`lead_id` None until it is written). `values` and `stage` follow planned updates."""

    lead_id: int | None
    line: int | None
    values: dict[str, str | None]
    stage: LeadStage

    @classmethod
    def of_lead(cls, lead: LeadRecord) -> "Target":
        values = {name: getattr(lead, name) for name in CONTACT_FIELDS}
        return cls(lead_id=lead.id, line=None, values=values, stage=lead.stage)

    @classmethod
    def of_row(cls, lead: ImportedLead) -> "Target":
        values: dict[str, str | None] = dict.fromkeys(CONTACT_FIELDS)
        return cls(
            lead_id=None,
            line=lead.line,
            values={**values, **lead.contact_fields()},
            stage=lead.stage,
        )


@dataclass(slots=True)
class PlannedRow:
    result: RowResult
    lead: ImportedLead | None = None
    target: Target | None = None  # the lead created, updated or matched
    changes: dict[str, str] = field(default_factory=dict)  # UPDATED: contact fields
    stage_to: LeadStage | None = None  # UPDATED: an open stage moved forward
    stage_from: LeadStage | None = None  # UPDATED: the stage it moves from
    records_fingerprint: bool = False  # whether a real run remembers the row's fingerprint


class _Index:
    """Targets by e-mail and by phone digits; the first lead to claim a key keeps it."""

    def __init__(self) -> None:
        self.by_email: dict[str, Target] = {}
        self.by_phone: dict[str, Target] = {}

    def add(self, target: Target) -> None:
        email, phone = contact_keys(target.values["email"], target.values["phone"])
        if email:
            self.by_email.setdefault(email, target)
        if phone:
            self.by_phone.setdefault(phone, target)

    def match(self, lead: ImportedLead) -> Target | None:
        email, phone = contact_keys(lead.email, lead.phone)
        return (self.by_email.get(email) if email else None) or (
            self.by_phone.get(phone) if phone else None
        )


def plan_rows(
    checked: Sequence[tuple[int, ImportedLead | list[RowError]]],
    *,
    imported_before: dict[str, int],
    existing: Sequence[LeadRecord],
    policy: DuplicatePolicy,
) -> list[PlannedRow]:
    """One decision per row, in file order."""
    index = _Index()
    for lead in sorted(existing, key=lambda record: record.id):
        index.add(Target.of_lead(lead))
    seen: dict[str, int] = {}  # fingerprint -> line, in this file
    planned: list[PlannedRow] = []
    for line, checked_row in checked:
        if isinstance(checked_row, list):
            planned.append(PlannedRow(RowResult(line, RowStatus.INVALID, errors=checked_row)))
            continue
        planned.append(_decide(checked_row, imported_before, seen, index, policy))
        seen.setdefault(checked_row.fingerprint, line)
    return planned


def _decide(
    lead: ImportedLead,
    imported_before: dict[str, int],
    seen: dict[str, int],
    index: _Index,
    policy: DuplicatePolicy,
) -> PlannedRow:
    if lead.fingerprint in imported_before:
        result = RowResult(
            lead.line, RowStatus.UNCHANGED, lead_id=imported_before[lead.fingerprint]
        )
        return PlannedRow(result, lead)
    if lead.fingerprint in seen:
        result = RowResult(lead.line, RowStatus.UNCHANGED, matched_line=seen[lead.fingerprint])
        return PlannedRow(result, lead)
    target = index.match(lead)
    if target is None:
        created = Target.of_row(lead)
        index.add(created)
        result = RowResult(lead.line, RowStatus.CREATED)
        return PlannedRow(result, lead, created, records_fingerprint=True)
    if policy is DuplicatePolicy.UPDATE:
        return _update(lead, target, index)
    status = RowStatus.SKIPPED if policy is DuplicatePolicy.SKIP else RowStatus.DUPLICATE
    return PlannedRow(_matched(lead, target, status), lead, target)


def _update(lead: ImportedLead, target: Target, index: _Index) -> PlannedRow:
    if target.stage not in OPEN_STAGES:
        error = RowError(
            None,
            f"It matches a {target.stage.value} lead; closed leads are never changed.",
        )
        return PlannedRow(_matched(lead, target, RowStatus.DUPLICATE, error), lead, target)
    if lead.outcome is not None:
        error = RowError(
            None,
            "It matches an open lead; an import does not close existing leads "
            "(change its stage in the app, or import the row without OUTCOME).",
        )
        return PlannedRow(_matched(lead, target, RowStatus.DUPLICATE, error), lead, target)
    changes = {
        name: value for name, value in lead.contact_fields().items() if target.values[name] != value
    }
    stage_from = target.stage
    stage_to = _forward(stage_from, lead.stage) if lead.stage_given else None
    target.values.update(changes)
    target.stage = stage_to or stage_from
    index.add(target)
    status = RowStatus.UPDATED if changes or stage_to else RowStatus.UNCHANGED
    result = _matched(lead, target, status)
    return PlannedRow(result, lead, target, changes, stage_to, stage_from, records_fingerprint=True)


def _forward(current: LeadStage, given: LeadStage) -> LeadStage | None:
    """`given` when it is further along the open stages than `current`; never backwards."""
    if given in OPEN_STAGES and OPEN_STAGES.index(given) > OPEN_STAGES.index(current):
        return given
    return None


def _matched(lead: ImportedLead, target: Target, status: RowStatus, *errors: RowError) -> RowResult:
    return RowResult(
        lead.line,
        status,
        matched_lead_id=target.lead_id,
        matched_line=target.line,
        errors=list(errors),
    )
