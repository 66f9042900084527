"""A fitted learned scorer as plain numbers, and the arithmetic that scores with it.

Stored as JSON (`scorer_models.parameters`), so loading a model runs no code, and
scoring needs no scikit-learn: a dot product and a logistic function.
"""

import math
from dataclasses import dataclass
from typing import Any

from services.ai.learned.features import FEATURE_NAMES, vector
from services.ai.types import ScoringInput

ALGORITHM = "logistic_regression"


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """P(win) = logistic(intercept + Σ coefficient_i · (x_i - mean_i) / scale_i).

    Features are standardized (mean and scale of the training examples), so each
    coefficient says how much one typical step of its feature moves the log-odds."""

    intercept: float
    coefficients: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def contributions(self, scoring_input: ScoringInput) -> dict[str, float]:
        """Each feature's push on the log-odds, relative to the average training lead."""
        values = vector(scoring_input)
        return {
            name: coefficient * (value - mean) / scale
            for name, coefficient, value, mean, scale in zip(
                self.feature_names,
                self.coefficients,
                values,
                self.means,
                self.scales,
                strict=True,
            )
        }

    def probability(self, scoring_input: ScoringInput) -> float:
        return logistic(self.intercept + sum(self.contributions(scoring_input).values()))

    def as_json(self) -> dict[str, Any]:
        return {
            "feature_names": list(self.feature_names),
            "intercept": self.intercept,
            "coefficients": list(self.coefficients),
            "means": list(self.means),
            "scales": list(self.scales),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LearnedModel":
        """Refuses parameters made for other features: a model is never silently misread."""
        names = tuple(str(name) for name in data["feature_names"])
        if names != FEATURE_NAMES:
            raise ValueError("the stored model was fitted on other features; train it again")
        return cls(
            intercept=float(data["intercept"]),
            coefficients=tuple(float(c) for c in data["coefficients"]),
            means=tuple(float(m) for m in data["means"]),
            scales=tuple(float(s) for s in data["scales"]),
            feature_names=names,
        )


def logistic(log_odds: float) -> float:
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)
