"""Relay global IDs: base64 of "Type:id", opaque to clients."""

import base64
import binascii

from resolvers.errors import BadRequest

NODE_TYPES = frozenset({"Lead", "LeadAnalysis", "LeadMessage", "Sale"})


def to_global_id(type_name: str, db_id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{db_id}".encode()).decode().rstrip("=")


class InvalidId(ValueError):
    """Not an ID this API issued."""


def parse_global_id(global_id: str) -> tuple[str, int]:
    if len(global_id) > 100:
        raise InvalidId("The ID is too long.")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, _, raw_id = decoded.partition(":")
        db_id = int(raw_id)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidId(f"{global_id!r} is not a valid ID.") from None
    if type_name not in NODE_TYPES or not 0 < db_id < 2**63:
        raise InvalidId(f"{global_id!r} is not a valid ID.")
    return type_name, db_id


def id_of_type(global_id: str, type_name: str) -> int | None:
    """The database id when `global_id` names a `type_name`; None for another type."""
    try:
        found_type, db_id = parse_global_id(global_id)
    except InvalidId as exc:
        raise BadRequest(str(exc)) from None
    return db_id if found_type == type_name else None
