"""The scoring interface: what a scorer sees, what it answers, how it fails."""

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from domain.enums import LeadSource, LeadStage, Recommendation


@dataclass(frozen=True, slots=True)
class ScoringInput:
    """Exactly the features a scorer may see; no other lead data ever reaches a model."""

    source: LeadSource
    stage: LeadStage
    message_count: int
    has_business_domain: bool
    business_domain: str | None
    days_since_created: int

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = self.source.value
        data["stage"] = self.stage.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ScoringInput":
        return cls(
            source=LeadSource(data["source"]),
            stage=LeadStage(data["stage"]),
            message_count=int(data["message_count"]),
            has_business_domain=bool(data["has_business_domain"]),
            business_domain=data["business_domain"],
            days_since_created=int(data["days_since_created"]),
        )


@dataclass(frozen=True, slots=True)
class Factor:
    """One signal that moved the score; `impact` is its signed share of it."""

    name: str
    impact: float
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    score: float
    recommendation: Recommendation
    reason: str
    factors: tuple[Factor, ...]
    scorer: str
    prompt_version: str | None = None
    tokens_in: int | None = None  # what a model reported using; None for other scorers
    tokens_out: int | None = None


class ScorerUnavailable(Exception):
    """The scorer could not give a valid answer (timeout, HTTP error, invalid output)."""


class BudgetSpent(ScorerUnavailable):
    """The tenant may not call the model now: its calls per minute or tokens per day are
    spent. Not the model's fault, so it does not count against the model's circuit."""


class Scorer(Protocol):
    @property
    def name(self) -> str:
        """Stable identity of the answering scorer, e.g. `heuristic` or `openai:gpt-4o-mini`."""
        ...

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        """Assess one lead; raise ScorerUnavailable when no valid answer can be had."""
        ...

    async def aclose(self) -> None:
        """Release what the scorer holds open (HTTP connections); called at shutdown."""
        ...
