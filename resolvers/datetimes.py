"""DateTime arguments: a value without an offset is read as UTC."""

from datetime import UTC, datetime


def as_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
