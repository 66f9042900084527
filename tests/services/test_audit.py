"""What an audit entry keeps of a change: only the fields that differ, as plain JSON."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access import Role
from domain.enums import LeadStage
from services.audit import changed_fields

MOMENT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

Fields = dict[str, object]
CASES: dict[str, tuple[Fields, Fields, dict[str, object]]] = {
    "an enum is its stored value": (
        {"stage": LeadStage.NEW},
        {"stage": LeadStage.CONTACTED},
        {"stage": {"before": "new", "after": "contacted"}},
    ),
    "an amount is a string": (
        {"amount": None},
        {"amount": Decimal("1250.50")},
        {"amount": {"before": None, "after": "1250.50"}},
    ),
    "a moment is ISO 8601": (
        {"revoked_at": None},
        {"revoked_at": MOMENT},
        {"revokedAt": {"before": None, "after": "2026-11-26T09:30:00+00:00"}},
    ),
    "an unchanged field is left out": (
        {"name": "Ada", "role": Role.ADMIN},
        {"name": "Ada", "role": Role.VIEWER},
        {"role": {"before": "admin", "after": "viewer"}},
    ),
    "an equal amount in another scale is unchanged": (
        {"amount": Decimal("10.0")},
        {"amount": Decimal("10.00")},
        {},
    ),
    "a new entity shows what it was created with": (
        {},
        {"business_domain": "fintech", "company": None, "active": True},
        {
            "businessDomain": {"before": None, "after": "fintech"},
            "active": {"before": None, "after": True},
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_changed_fields(case: str) -> None:
    # given a field's values before and after a change
    before, after, expected = CASES[case]
    # when the change is described; then it reads as expected
    assert changed_fields(before, after) == expected


def test_a_value_json_cannot_hold_is_refused() -> None:
    # given a value with no JSON form; when it is described; then it is refused, not mangled
    with pytest.raises(TypeError, match="bytes"):
        changed_fields({}, {"secret_hash": b"\x00"})
