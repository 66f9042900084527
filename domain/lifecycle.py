"""Stage rules for leads and sales, as pure functions.

Leads: new -> contacted -> qualified -> transferred; new | contacted | qualified -> lost.
Sales: new -> kyc -> agreement -> paid. One step at a time, never backwards; transferred,
lost and paid are final.
"""

from datetime import datetime

from domain.enums import LeadStage, SaleStage
from domain.errors import DomainError, ErrorCode

FINAL_LEAD_STAGES = frozenset({LeadStage.TRANSFERRED, LeadStage.LOST})

_NEXT_LEAD_STAGE = {
    LeadStage.NEW: LeadStage.CONTACTED,
    LeadStage.CONTACTED: LeadStage.QUALIFIED,
    LeadStage.QUALIFIED: LeadStage.TRANSFERRED,
}

SALE_ORDER = tuple(SaleStage)  # declared in pipeline order: NEW, KYC, AGREEMENT, PAID

STAGE_FIELD = ("input", "stage")


def ensure_lead_editable(stage: LeadStage) -> None:
    """A transferred or lost lead is final: nothing about it may change."""
    if stage in FINAL_LEAD_STAGES:
        raise DomainError.single(
            ErrorCode.IMMUTABLE, f"The lead is {stage.name} and can no longer change."
        )


def ensure_lead_transition(current: LeadStage, target: LeadStage) -> None:
    """Allow one step forward, or LOST from any open stage; TRANSFERRED only via transfer."""
    ensure_lead_editable(current)
    if target is LeadStage.TRANSFERRED:
        raise DomainError.single(
            ErrorCode.INVALID_TRANSITION,
            "A lead becomes TRANSFERRED only through transferLead.",
            STAGE_FIELD,
        )
    if target is LeadStage.LOST or _NEXT_LEAD_STAGE.get(current) is target:
        return
    raise DomainError.single(
        ErrorCode.INVALID_TRANSITION,
        f"A lead cannot move from {current.name} to {target.name}; "
        f"the next stage is {_NEXT_LEAD_STAGE[current].name} (or LOST).",
        STAGE_FIELD,
    )


def ensure_sale_editable(stage: SaleStage) -> None:
    """A paid sale is final."""
    if stage is SaleStage.PAID:
        raise DomainError.single(ErrorCode.IMMUTABLE, "The sale is PAID and can no longer change.")


def ensure_sale_transition(current: SaleStage, target: SaleStage) -> None:
    """Sales move exactly one step forward at a time."""
    ensure_sale_editable(current)
    expected = SALE_ORDER[SALE_ORDER.index(current) + 1]
    if target is not expected:
        raise DomainError.single(
            ErrorCode.INVALID_TRANSITION,
            f"A sale cannot move from {current.name} to {target.name}; "
            f"the next stage is {expected.name}.",
            STAGE_FIELD,
        )


def ensure_version(expected: int | None, actual: int) -> None:
    """Optimistic concurrency: a client that read an older version must re-read first."""
    if expected is not None and expected != actual:
        raise DomainError.single(
            ErrorCode.VERSION_CONFLICT,
            f"The record changed since you read it (version {actual}, you sent {expected}); "
            "reload and try again.",
            ("input", "expectedVersion"),
        )


def days_since(moment: datetime, *, now: datetime) -> int:
    """Whole days from `moment` to `now`, never negative (clocks may disagree slightly)."""
    return max(0, (now - moment).days)
