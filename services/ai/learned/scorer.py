"""Analyses answered by a tenant's learned model, with the factors its coefficients give."""

import dataclasses
from dataclasses import dataclass

from services.ai.fallback import FALLBACK_MARK
from services.ai.heuristic import ADVICE, recommend
from services.ai.learned.model import LearnedModel, logistic
from services.ai.types import Assessment, Factor, Scorer, ScoringInput

LEARNED_NAME = "learned"
REASON_TOP_FACTORS = 3

# Features grouped as a person reads them: every source flag together is "source".
_GROUPS = ("source", "stage", "messages", "business_domain", "age")


@dataclass(frozen=True, slots=True)
class StoredModel:
    version: int
    outcomes: int  # closed leads it was fitted on
    model: LearnedModel


def learned_name(version: int) -> str:
    return f"{LEARNED_NAME}:v{version}"


class LearnedScorer:
    """Scores with one stored model version; never calls out, never raises."""

    def __init__(self, stored: StoredModel) -> None:
        self._stored = stored

    @property
    def name(self) -> str:
        return learned_name(self._stored.version)

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        return assess(self._stored, scoring_input)

    async def aclose(self) -> None:
        """Nothing to release."""


class ColdStartScorer:
    """The learned scorer of a tenant with no usable model yet (cold start): the configured
    scorer answers, marked `<its name> (fallback from learned)`. It is named as its
    analyses are stored, so the cache and single flight serve it like any scorer."""

    def __init__(self, configured: Scorer, why: str) -> None:
        self._configured = configured
        self.why = why

    @property
    def name(self) -> str:
        return _standing_in(self._configured.name)

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        assessment = await self._configured.score(scoring_input)
        return dataclasses.replace(assessment, scorer=_standing_in(assessment.scorer))

    async def aclose(self) -> None:
        """The configured scorer is not this one's to close."""


def _standing_in(scorer: str) -> str:
    return f"{scorer}{FALLBACK_MARK}{LEARNED_NAME})"


def assess(stored: StoredModel, scoring_input: ScoringInput) -> Assessment:
    model = stored.model
    score = round(model.probability(scoring_input), 3)
    recommendation = recommend(score)
    factors = _factors(model, scoring_input)
    top = sorted(factors, key=lambda f: (-abs(f.impact), f.name))[:REASON_TOP_FACTORS]
    listed = ", ".join(f"{f.note} ({f.impact:+.2f})" for f in top if f.impact != 0.0)
    reason = (
        f"{ADVICE[recommendation]} (score {score:.2f}): learned from "
        f"{stored.outcomes} closed leads (v{stored.version}); "
        f"{listed or 'no feature moved it from the average closed lead'}."
    )
    return Assessment(
        score=score,
        recommendation=recommendation,
        reason=reason,
        factors=tuple(factors),
        scorer=learned_name(stored.version),
    )


def _factors(model: LearnedModel, scoring_input: ScoringInput) -> list[Factor]:
    """Each group's effect alone: the score of the average closed lead with this lead's
    value of the group, minus the average closed lead's score."""
    by_group = dict.fromkeys(_GROUPS, 0.0)
    for name, contribution in model.contributions(scoring_input).items():
        by_group[name.split(":", 1)[0]] += contribution
    average = logistic(model.intercept)
    notes = _notes(scoring_input)
    return [
        Factor(group, _rounded(logistic(model.intercept + push) - average), notes[group])
        for group, push in by_group.items()
    ]


def _notes(scoring_input: ScoringInput) -> dict[str, str]:
    messages = scoring_input.message_count
    days = scoring_input.days_since_created
    return {
        "source": f"{scoring_input.source.value.replace('_', ' ')} source",
        "stage": f"{scoring_input.stage.value} stage",
        "messages": f"{messages} message{'' if messages == 1 else 's'}",
        "business_domain": (
            "business domain given" if scoring_input.has_business_domain else "no business domain"
        ),
        "age": f"{days} day{'' if days == 1 else 's'} old",
    }


def _rounded(value: float) -> float:
    return round(value, 3) or 0.0
