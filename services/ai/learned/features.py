"""The learned scorer's view of a lead: the seed's features as numbers.

Source and stage are one-hot; message count and age are log-scaled (the tenth message
says more than the hundredth); "has a business domain" is 0 or 1. The domain's text is
not used: it is too sparse per tenant to learn from.

A closed lead teaches at every stage it passed through (the approach of Odoo's
predictive lead scoring): a lead won from QUALIFIED was also a NEW and a CONTACTED lead
that went on to win, and a lead lost at CONTACTED was a NEW lead that was lost. Training
on the last stage alone would teach that a NEW lead never wins, since nobody wins from
NEW. Message count and age are the lead's at its close, for every stage: the history
of each is not kept per stage.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain.enums import LeadSource, LeadStage
from services.ai.types import ScoringInput

OPEN_STAGES: tuple[LeadStage, ...] = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"source:{source.value}" for source in LeadSource),
    *(f"stage:{stage.value}" for stage in OPEN_STAGES),
    "messages",
    "business_domain",
    "age",
)


def vector(scoring_input: ScoringInput) -> list[float]:
    """The input as FEATURE_NAMES' numbers. A final stage sets no stage flag."""
    return [
        *(1.0 if scoring_input.source is source else 0.0 for source in LeadSource),
        *(1.0 if scoring_input.stage is stage else 0.0 for stage in OPEN_STAGES),
        math.log1p(max(scoring_input.message_count, 0)),
        1.0 if scoring_input.has_business_domain else 0.0,
        math.log1p(max(scoring_input.days_since_created, 0)),
    ]


@dataclass(frozen=True, slots=True)
class Example:
    features: ScoringInput
    won: bool


def examples_of(decided_at: ScoringInput, *, won: bool) -> list[Example]:
    """One example per open stage up to the one the lead was decided at."""
    if decided_at.stage not in OPEN_STAGES:
        return []
    reached = OPEN_STAGES[: OPEN_STAGES.index(decided_at.stage) + 1]
    return [Example(replace(decided_at, stage=stage), won) for stage in reached]


def examples_of_all(outcomes: Sequence[tuple[ScoringInput, bool]]) -> list[Example]:
    return [example for features, won in outcomes for example in examples_of(features, won=won)]
