"""Relay connection arguments and opaque keyset cursors.

A cursor is base64 of JSON [ordering, sort value, id]: it is valid only for the ordering
it was issued for, so a client cannot mix pages of two different orders.
"""

import base64
import binascii
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Protocol, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.keyset import Page, PageRequest, Position
from resolvers.errors import BadRequest

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Identified)


@dataclass(frozen=True, slots=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    node: T
    cursor: str


@dataclass(frozen=True, slots=True)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: Callable[[], Awaitable[int]] | None = field(default=None, repr=False)


async def total_count(root: Connection[Any]) -> int:
    """Counted only when a client selects totalCount: it costs a scan of the filter."""
    if root.count is None:
        raise ValueError("this connection has no total count")
    return await root.count()


def connection(
    page: Page[T], ordering: str, key: Callable[[T], tuple[Any, int]], **extra: Any
) -> Connection[T]:
    """Wrap a page of rows; `key` gives each row's (sort value, id) for its cursor."""
    edges = [Edge(row, encode_cursor(ordering, *key(row))) for row in page.rows]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, **extra)


@dataclass(frozen=True, slots=True)
class PageArgs:
    """The Relay arguments of a root list field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


async def list_connection(
    db: Database,
    *,
    ordering: str,
    sort_type: type,
    args: PageArgs,
    fetch_page: Callable[..., Awaitable[Page[R]]],
    fetch_count: Callable[[AsyncConnection], Awaitable[int]],
    sort_value: Callable[[R], Any],
) -> Connection[R]:
    """One keyset page of a root list; its total is counted only if a client asks.

    `fetch_page(conn, request=...)` reads the page, `fetch_count(conn)` the total, and
    `sort_value(row)` gives the value a row's cursor records next to its id.
    """
    request = page_request(
        ordering=ordering,
        sort_type=sort_type,
        first=args.first,
        after=args.after,
        last=args.last,
        before=args.before,
    )
    async with db.read() as conn:
        page = await fetch_page(conn, request=request)

    async def count() -> int:
        async with db.read() as conn:
            return await fetch_count(conn)

    return connection(page, ordering, lambda row: (sort_value(row), row.id), count=count)


def page_request(
    *,
    ordering: str,
    sort_type: type,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """Validate Relay arguments: `first` pages forward, `last` backward, at most 100."""
    if first is not None and last is not None:
        raise BadRequest("Pass either `first` or `last`, not both.")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise BadRequest(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {size}.")
    return PageRequest(
        limit=last if last is not None else first if first is not None else DEFAULT_PAGE_SIZE,
        after=None if after is None else decode_cursor(after, ordering, sort_type),
        before=None if before is None else decode_cursor(before, ordering, sort_type),
        from_end=last is not None,
    )


def encode_cursor(ordering: str, sort_value: Any, row_id: int) -> str:
    raw = orjson.dumps([ordering, _encode_value(sort_value), row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str, sort_type: type) -> Position:
    """The position a cursor marks; BAD_REQUEST for anything this API did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        issued_for, value, row_id = orjson.loads(raw)
        position = Position(sort_value=_decode_value(value, sort_type), id=_whole(row_id))
    except (ValueError, TypeError, OverflowError, binascii.Error, InvalidOperation):
        raise BadRequest(f"{cursor[:100]!r} is not a valid cursor.") from None
    if issued_for != ordering:
        raise BadRequest("This cursor belongs to a different ordering; start from page one.")
    return position


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


# Sale amounts are NUMERIC(14,2): below 10**12, in whole cents.
_AMOUNT_LIMIT = Decimal("1e12")
_CENT = Decimal("0.01")


def _decode_value(value: Any, sort_type: type) -> Any:
    """The sort value a cursor records, only if the database could hold it in that column."""
    if sort_type is datetime and isinstance(value, dict) and isinstance(value.get("t"), str):
        return _moment(value["t"])
    if sort_type is Decimal and isinstance(value, dict) and isinstance(value.get("d"), str):
        return _amount(value["d"])
    if sort_type is int and isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    if sort_type is float and isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise TypeError("unexpected cursor value")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise TypeError("a cursor moment must carry an offset")
    try:
        # An offset can push a moment at the calendar's edge out of range in UTC.
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("cursor moment out of range") from None


def _amount(text: str) -> Decimal:
    amount = Decimal(text)
    # Anything NUMERIC(14,2) cannot hold would make PostgreSQL refuse the query.
    if not amount.is_finite() or abs(amount) >= _AMOUNT_LIMIT:
        raise ValueError("cursor amount out of range")
    if amount != amount.quantize(_CENT):
        raise ValueError("cursor amount has more than 2 decimals")
    return amount


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    raise TypeError("unexpected cursor id")
