"""The hard gates a lead must pass before it is handed to sales.

All gates are evaluated together so a person sees every reason at once.
"""

from dataclasses import dataclass

from domain.enums import LeadStage
from domain.errors import ErrorCode, Problem
from domain.lifecycle import FINAL_LEAD_STAGES


@dataclass(frozen=True, slots=True)
class TransferCandidate:
    stage: LeadStage
    latest_score: float | None
    business_domain: str | None


def transfer_blockers(lead: TransferCandidate, min_score: float) -> list[Problem]:
    """Every unmet gate: stage QUALIFIED, an analysis, score >= min_score, a domain."""
    blockers: list[Problem] = []
    if lead.stage in FINAL_LEAD_STAGES:
        blockers.append(Problem(ErrorCode.IMMUTABLE, f"The lead is already {lead.stage.name}."))
    elif lead.stage is not LeadStage.QUALIFIED:
        blockers.append(
            Problem(
                ErrorCode.INVALID_TRANSITION,
                f"Only a QUALIFIED lead can be transferred; this one is {lead.stage.name}.",
            )
        )
    if lead.latest_score is None:
        blockers.append(
            Problem(ErrorCode.NOT_ANALYZED, "The lead has no AI analysis yet; run analyzeLead.")
        )
    elif lead.latest_score < min_score:
        blockers.append(
            Problem(
                ErrorCode.SCORE_TOO_LOW,
                f"The latest score {lead.latest_score:.3f} is below the required {min_score:g}.",
            )
        )
    if not lead.business_domain:
        blockers.append(
            Problem(
                ErrorCode.BUSINESS_DOMAIN_MISSING,
                "The lead has no business domain; set it with updateLead.",
            )
        )
    return blockers
