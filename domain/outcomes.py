"""How a lead ended, as far as the AI learns from it: the rules of what counts as an outcome.

A sale reaching PAID is a WIN for its lead; a lead marked LOST is a LOSS. Both stages are
final, so a lead has at most one outcome. Sales that stall are not outcomes (yet).
"""

import hashlib
from enum import Enum

from domain.enums import LeadStage, SaleStage


class OutcomeResult(Enum):
    WIN = "win"
    LOSS = "loss"


# A lead is transferred only from QUALIFIED: the stage every won lead was decided at.
WON_FROM_STAGE = LeadStage.QUALIFIED


def outcome_of_lead_stage(stage: LeadStage) -> OutcomeResult | None:
    """LOST decides a lead (a LOSS); every other lead stage decides nothing."""
    return OutcomeResult.LOSS if stage is LeadStage.LOST else None


def outcome_of_sale_stage(stage: SaleStage) -> OutcomeResult | None:
    """PAID decides the sale's lead (a WIN); the steps before it decide nothing."""
    return OutcomeResult.WIN if stage is SaleStage.PAID else None


HELD_OUT_BUCKETS = 5  # one lead in five is held out from training, for the scorer report


def in_held_out_split(lead_id: int) -> bool:
    """Whether a lead's outcome is kept out of training and used to judge the scorers.

    Decided by the lead alone (a hash of its id, not its age), so the split never changes
    between trainings and a learned scorer is never judged on the outcomes it learned from.
    """
    digest = hashlib.sha256(f"lead:{lead_id}".encode()).digest()
    return digest[0] % HELD_OUT_BUCKETS == 0


class OutcomeOrigin(Enum):
    RECORDED = "recorded"  # written by the change that decided it
    IMPORTED = "imported"  # brought in with historical leads
