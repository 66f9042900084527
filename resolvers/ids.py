"""Relay global IDs: base64 of "Type:id" (domain/global_ids.py), opaque to clients.

The one place that judges an ID and words what is wrong with it. Only the exact form
this API issues is accepted, so one row never answers to many spellings of its ID.
"""

import base64
import binascii
import functools
import re

from domain.global_ids import to_global_id
from resolvers.errors import BadRequest

NODE_TYPES = frozenset(
    {
        *("Lead", "LeadAnalysis", "LeadMessage", "Sale", "User", "ApiKey", "AuditEntry", "Event"),
        *("Webhook", "WebhookDelivery"),
    }
)

# A positive BIGINT in plain ASCII digits: no sign, space, underscore or leading zero.
_ROW_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)
_MAX_ROW_ID = 2**63 - 1
_MAX_LENGTH = 100


class InvalidId(ValueError):
    """Not an ID this API issued, or an ID of another type than wanted."""


def parse_global_id(global_id: str) -> tuple[str, int]:
    """The type and database id inside an ID; InvalidId for anything this API did not issue."""
    if len(global_id) > _MAX_LENGTH:
        raise InvalidId("The ID is too long.")
    return _parse(global_id)


@functools.lru_cache(maxsize=10_000)  # clients send the same IDs again and again
def _parse(global_id: str) -> tuple[str, int]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        type_name, _, raw_id = decoded.decode("ascii").partition(":")
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidId(f"{global_id!r} is not a valid ID.") from None
    if type_name not in NODE_TYPES or not _ROW_ID.fullmatch(raw_id):
        raise InvalidId(f"{global_id!r} is not a valid ID.")
    db_id = int(raw_id)
    # Base64 has spellings of the same bytes that this API never issues (stray bits, padding).
    if db_id > _MAX_ROW_ID or global_id.rstrip("=") != to_global_id(type_name, db_id):
        raise InvalidId(f"{global_id!r} is not a valid ID.")
    return type_name, db_id


def decode_id(global_id: str, type_name: str) -> int:
    """The database id of a `type_name` ID; InvalidId if it is garbage or of another type."""
    found_type, db_id = parse_global_id(global_id)
    if found_type != type_name:
        raise InvalidId(f"Expected {_a(type_name)} ID, got {_a(found_type)} ID.")
    return db_id


def id_of_type(global_id: str, type_name: str) -> int | None:
    """The database id when `global_id` names a `type_name`; None for another type.

    For queries: a well-formed ID of another type simply finds nothing.
    """
    try:
        found_type, db_id = parse_global_id(global_id)
    except InvalidId as exc:
        raise BadRequest(str(exc)) from None
    return db_id if found_type == type_name else None


def _a(type_name: str) -> str:
    """ "a Lead", "an Event": the type name with its article."""
    return f"{'an' if type_name[0] in 'AEIOU' else 'a'} {type_name}"
