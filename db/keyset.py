"""Keyset (seek) pagination: pages by an ordered key, never by OFFSET.

A position is the pair (sort value, id) of a row; `id` breaks ties so the order is total.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, tuple_

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    sort_value: Any
    id: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    after: Position | None = None
    before: Position | None = None
    from_end: bool = False  # `last`: take the rows nearest `before` (or the end)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: Sequence[T]
    has_next: bool
    has_previous: bool


def paginate(
    stmt: Select[Any],
    *,
    sort: ColumnElement[Any],
    id_column: ColumnElement[int],
    descending: bool,
    request: PageRequest,
) -> Select[Any]:
    """Add the seek conditions, order and limit (one extra row tells if more exist)."""
    return (
        stmt.where(*seek_conditions(sort, id_column, descending, request))
        .order_by(*fetch_order(sort, id_column, descending, request))
        .limit(request.limit + 1)
    )


def seek_conditions(
    sort: ColumnElement[Any],
    id_column: ColumnElement[int],
    descending: bool,
    request: PageRequest,
) -> list[ColumnElement[bool]]:
    """Row-value comparisons that an index on (sort, id) answers directly."""
    key = tuple_(sort, id_column)
    conditions = []
    if request.after is not None:
        bound = tuple_(request.after.sort_value, request.after.id)
        conditions.append(key < bound if descending else key > bound)
    if request.before is not None:
        bound = tuple_(request.before.sort_value, request.before.id)
        conditions.append(key > bound if descending else key < bound)
    return conditions


def fetch_order(
    sort: ColumnElement[Any],
    id_column: ColumnElement[int],
    descending: bool,
    request: PageRequest,
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The order rows are fetched in: reversed for `last`, and `to_page` flips it back."""
    if descending != request.from_end:
        return sort.desc(), id_column.desc()
    return sort.asc(), id_column.asc()


def to_page(rows: Sequence[T], request: PageRequest) -> Page[T]:
    """Trim the extra row and put rows back in the requested order."""
    has_more = len(rows) > request.limit
    rows = list(rows[: request.limit])
    if request.from_end:
        rows.reverse()
        return Page(rows, has_next=request.before is not None, has_previous=has_more)
    return Page(rows, has_next=has_more, has_previous=request.after is not None)
