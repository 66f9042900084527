"""Which CSV column feeds which lead field: explicit mappings, else matching headers."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from domain.errors import DomainError, ErrorCode, Problem


class ImportField(Enum):
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    COMPANY = "company"
    SOURCE = "source"
    BUSINESS_DOMAIN = "business_domain"
    STAGE = "stage"
    MESSAGE_COUNT = "message_count"
    CREATED_AT = "created_at"
    OUTCOME = "outcome"
    CLOSED_AT = "closed_at"
    LOST_REASON = "lost_reason"
    AMOUNT = "amount"
    CURRENCY = "currency"


REQUIRED_FIELDS = (ImportField.NAME, ImportField.SOURCE)
_NOT_A_KEY_CHARACTER = re.compile(r"[\s_\-]+")


def header_key(header: str) -> str:
    """`Business domain`, `business_domain` and `BUSINESS-DOMAIN` are one key."""
    return _NOT_A_KEY_CHARACTER.sub("", header).casefold()


_FIELD_BY_KEY = {header_key(field.value): field for field in ImportField}


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Field -> (position, header) in the file, and the headers no field takes."""

    columns: dict[ImportField, tuple[int, str]]
    ignored: tuple[str, ...]
    width: int  # how many columns the header names

    def header_of(self, field: ImportField) -> str:
        return self.columns[field][1]


def map_columns(headers: Sequence[str], explicit: Sequence[tuple[ImportField, str]]) -> ColumnMap:
    """Explicit entries first (header matched exactly, then case/space-insensitively);
    every field left unmapped takes the header that spells its name, if any."""
    problems: list[Problem] = []
    columns: dict[ImportField, tuple[int, str]] = {}
    for index, (field, header) in enumerate(explicit):
        position = _position(headers, header)
        if field in columns:
            problems.append(_mapping_problem(index, f"{field.name} is mapped twice."))
        elif position is None:
            problems.append(_mapping_problem(index, f"The file has no column {header!r}."))
        else:
            columns[field] = (position, headers[position])
    taken = {position for position, _ in columns.values()}
    for position, header in enumerate(headers):
        named = _FIELD_BY_KEY.get(header_key(header))
        if named is not None and named not in columns and position not in taken:
            columns[named] = (position, header)
            taken.add(position)
    for field in REQUIRED_FIELDS:
        if field not in columns:
            problems.append(_missing(field))
    if problems:
        raise DomainError(problems)
    ignored = tuple(h for position, h in enumerate(headers) if position not in taken and h)
    return ColumnMap(columns=columns, ignored=ignored, width=len(headers))


def _position(headers: Sequence[str], header: str) -> int | None:
    if header in headers:
        return headers.index(header)
    keys = [header_key(h) for h in headers]
    key = header_key(header)
    return keys.index(key) if key and key in keys else None


def _mapping_problem(index: int, message: str) -> Problem:
    return Problem(ErrorCode.VALIDATION_FAILED, message, ("input", "mapping", str(index)))


def _missing(field: ImportField) -> Problem:
    return Problem(
        ErrorCode.VALIDATION_FAILED,
        f"No column gives {field.name}: add a column named {field.value!r} or map one to it.",
        ("input", "mapping"),
    )
