"""Business errors: what a person did that the rules do not allow.

Services raise `DomainError`; the API layer turns each `Problem` into a `UserError`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class ErrorCode(Enum):
    NOT_FOUND = "not_found"
    VALIDATION_FAILED = "validation_failed"
    INVALID_TRANSITION = "invalid_transition"
    IMMUTABLE = "immutable"
    NOT_ANALYZED = "not_analyzed"
    SCORE_TOO_LOW = "score_too_low"
    BUSINESS_DOMAIN_MISSING = "business_domain_missing"
    VERSION_CONFLICT = "version_conflict"
    AI_UNAVAILABLE = "ai_unavailable"
    FORBIDDEN = "forbidden"
    NOT_ENOUGH_OUTCOMES = "not_enough_outcomes"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule; `field` is the input path at fault, when there is one."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


class DomainError(Exception):
    """A request the business rules refuse; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)

    @classmethod
    def single(
        cls, code: ErrorCode, message: str, field: tuple[str, ...] | None = None
    ) -> "DomainError":
        return cls([Problem(code, message, field)])


def not_found(entity: str, field: tuple[str, ...] | None = None) -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, f"{entity} not found.", field)
