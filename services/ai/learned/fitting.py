"""Fitting a learned scorer with scikit-learn: L2-regularized logistic regression.

CPU-bound and synchronous: callers run it in a thread. scikit-learn is imported here
only, when a model is fitted, so serving never loads it.
"""

from collections.abc import Sequence

from services.ai.learned.features import Example, vector
from services.ai.learned.model import LearnedModel

# Regularization strength (scikit-learn's C, smaller is stronger): outcomes per tenant
# are few, so coefficients are kept modest rather than fitted to noise.
REGULARIZATION_C = 1.0


def fit(examples: Sequence[Example]) -> LearnedModel:
    """Needs both wins and losses among `examples`."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    values = np.array([vector(example.features) for example in examples], dtype=float)
    labels = np.array([1 if example.won else 0 for example in examples], dtype=int)
    means = values.mean(axis=0)
    scales = values.std(axis=0)
    scales[scales == 0] = 1.0  # a feature that never varies moves nothing
    regression = LogisticRegression(C=REGULARIZATION_C, max_iter=1000)
    regression.fit((values - means) / scales, labels)
    return LearnedModel(
        intercept=float(regression.intercept_[0]),
        coefficients=tuple(float(c) for c in regression.coef_[0]),
        means=tuple(float(m) for m in means),
        scales=tuple(float(s) for s in scales),
    )
