"""A scorer that answers from a second scorer when the first cannot answer."""

import dataclasses
import logging

from services.ai.types import Assessment, Scorer, ScorerUnavailable, ScoringInput

logger = logging.getLogger(__name__)

# How an assessment says it stood in for another scorer: "heuristic (fallback from x)".
FALLBACK_MARK = " (fallback from "


class FallbackScorer:
    """Asks `primary`; when it is unavailable, asks `fallback` and says so in `scorer`."""

    def __init__(self, primary: Scorer, fallback: Scorer) -> None:
        self._primary = primary
        self._fallback = fallback

    @property
    def name(self) -> str:
        """The primary's name: analyses are reused only when the primary itself answered."""
        return self._primary.name

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        """Only ScorerUnavailable triggers the fallback; any other error is a bug and propagates."""
        try:
            return await self._primary.score(scoring_input)
        except ScorerUnavailable as error:
            logger.warning("%s; scoring with %s instead", error, self._fallback.name)
        assessment = await self._fallback.score(scoring_input)
        scorer = f"{assessment.scorer}{FALLBACK_MARK}{self._primary.name})"
        return dataclasses.replace(assessment, scorer=scorer)

    async def aclose(self) -> None:
        await self._primary.aclose()
        await self._fallback.aclose()
