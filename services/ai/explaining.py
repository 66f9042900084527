"""A scorer whose reasons a language model words, while another scorer decides.

The inner scorer (the learned one) gives score, recommendation and factors; an Explainer
only rewrites the `reason` in plain words. The model stays advisory twice over: it sees
numbers and enums only, and when it cannot answer the inner assessment stands as it is.
"""

import dataclasses
import logging
from dataclasses import dataclass
from typing import Protocol

from services.ai.fallback import FALLBACK_MARK
from services.ai.types import Assessment, Scorer, ScorerUnavailable, ScoringInput

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Explanation:
    """A reason for an assessment, and what asking for it cost."""

    reason: str
    prompt_version: str
    tokens_in: int | None = None
    tokens_out: int | None = None


class Explainer(Protocol):
    @property
    def name(self) -> str:
        """Stable identity of the explaining model, e.g. `openai:gpt-4o-mini`."""
        ...

    async def explain(self, scoring_input: ScoringInput, assessment: Assessment) -> Explanation:
        """Word the reason for `assessment`; raise ScorerUnavailable when no valid one can
        be had."""
        ...

    async def aclose(self) -> None:
        """Release what the explainer holds open (HTTP connections); called at shutdown."""
        ...


class ExplainingScorer:
    """`scorer` decides; `explainer` words the reason. Never fails because of the explainer."""

    def __init__(self, scorer: Scorer, explainer: Explainer) -> None:
        self._scorer = scorer
        self._explainer = explainer

    @property
    def name(self) -> str:
        return f"{self._scorer.name}+{self._explainer.name}"

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        """The inner assessment with the explainer's reason; when the explainer is
        unavailable, the inner assessment as it is, marked as standing in for this scorer.
        An assessment the inner scorer did not make itself (a fallback's) passes through
        unexplained: it is not what this scorer's name promises."""
        assessment = await self._scorer.score(scoring_input)
        if assessment.scorer != self._scorer.name:
            return assessment
        try:
            explanation = await self._explainer.explain(scoring_input, assessment)
        except ScorerUnavailable as error:
            logger.warning("%s; keeping the reason %s gave", error, assessment.scorer)
            scorer = f"{assessment.scorer}{FALLBACK_MARK}{self.name})"
            return dataclasses.replace(assessment, scorer=scorer)
        return dataclasses.replace(
            assessment,
            reason=explanation.reason,
            scorer=self.name,
            prompt_version=explanation.prompt_version,
            tokens_in=explanation.tokens_in,
            tokens_out=explanation.tokens_out,
        )

    async def aclose(self) -> None:
        await self._scorer.aclose()
        await self._explainer.aclose()
