"""Closed leads with a known signal, for the learned scorer's tests.

This made-up tenant's truth differs from the heuristic's fixed beliefs on purpose: here
cold outreach converts best and partners worst, a business domain matters a lot, and
message count barely does. A scorer that learns the truth must beat one that assumes.
"""

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from domain.enums import LeadSource, LeadStage
from services.ai import ScoringInput

TRUE_SOURCE_EFFECT = {
    LeadSource.COLD_OUTREACH: 1.6,
    LeadSource.TELEGRAM: 0.8,
    LeadSource.WEBSITE: 0.0,
    LeadSource.OTHER: 0.0,
    LeadSource.EVENT: -0.4,
    LeadSource.REFERRAL: -0.8,
    LeadSource.PARTNER: -1.6,
}
TRUE_DOMAIN_EFFECT = 1.5
TRUE_INTERCEPT = -1.2
LOST_AT = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED)


@dataclass(frozen=True, slots=True)
class ClosedLead:
    number: int
    source: LeadSource
    business_domain: str | None
    messages: int
    age_days: int
    won: bool
    lost_at: LeadStage  # the stage a lost lead was lost at; QUALIFIED for a won one

    @property
    def decided_at(self) -> ScoringInput:
        return ScoringInput(
            source=self.source,
            stage=self.lost_at,
            message_count=self.messages,
            has_business_domain=self.business_domain is not None,
            business_domain=self.business_domain,
            days_since_created=self.age_days,
        )


def closed_leads(count: int, *, seed: int = 7) -> Iterator[ClosedLead]:
    rng = random.Random(seed)
    sources = list(LeadSource)
    for number in range(1, count + 1):
        source = rng.choice(sources)
        domain = rng.choice(["fintech", "retail", "logistics"]) if rng.random() < 0.5 else None
        messages = rng.randint(0, 20)
        log_odds = (
            TRUE_INTERCEPT
            + TRUE_SOURCE_EFFECT[source]
            + (TRUE_DOMAIN_EFFECT if domain else 0.0)
            + 0.02 * messages
        )
        won = rng.random() < 1 / (1 + math.exp(-log_odds))
        yield ClosedLead(
            number=number,
            source=source,
            business_domain=domain,
            messages=messages,
            age_days=rng.randint(1, 90),
            won=won,
            lost_at=LeadStage.QUALIFIED if won else rng.choice(LOST_AT),
        )
