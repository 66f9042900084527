"""Decoding mutation input: global IDs and omitted optional fields."""

from typing import Any

from strawberry import UNSET

from domain.errors import DomainError, ErrorCode
from resolvers.ids import InvalidId, decode_id


def input_id(global_id: str, type_name: str, field_name: str) -> int:
    """A bad ID in mutation input is a userError at its field, worded by `resolvers.ids`."""
    try:
        return decode_id(global_id, type_name)
    except InvalidId as exc:
        path = ("input", field_name)
        raise DomainError.single(ErrorCode.VALIDATION_FAILED, str(exc), path) from None


def given(value: Any) -> Any:
    """An omitted optional input field reads as None."""
    return None if value is UNSET else value
