"""DateTime arguments: a value without an offset is read as UTC."""

from datetime import UTC, datetime

from resolvers.errors import BadRequest


def as_utc(moment: datetime | None, field_name: str) -> datetime | None:
    """The moment in UTC; BAD_REQUEST naming `field_name` when UTC cannot hold it.

    An offset can push a moment at the calendar's edge past year 1 or 9999, which
    Python (and PostgreSQL's driver) cannot represent.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(
            f"`{field_name}` is out of range: {moment.isoformat()} is before year 1 "
            "or after year 9999 in UTC."
        ) from None
