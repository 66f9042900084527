"""Values of rows the tests of db/ insert directly, below the services."""

from typing import Any

from db.models import DEFAULT_TENANT_ID
from domain.enums import Recommendation


def analysis_row(lead_id: int, score: float) -> dict[str, Any]:
    """A stored analysis of a lead of the default tenant."""
    return {
        "tenant_id": DEFAULT_TENANT_ID,
        "lead_id": lead_id,
        "score": score,
        "recommendation": Recommendation.CONTINUE_NURTURING,
        "reason": "test",
        "factors": [],
        "input": {},
        "scorer": "heuristic",
        "latency_ms": 1,
    }
