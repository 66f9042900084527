"""How a selected Lead (with its latest analysis and sale) is read from one row: the
columns each field needs, and the Python expression that gives exactly what the schema's
resolver and serializer give (enum names, ISO times, global ids, decimals as strings).

The expressions are put together into one function per document (`compile_row`), so a
row becomes its JSON object in a single call, as graphql-jit does for JavaScript. Fields
not listed here (connections, computed gates, outcomes, history) leave the document to
the general executor.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from db.queries.lead_reads import ANALYSIS, LEAD, SALE, Column, Selection
from domain.enums import LeadSource, LeadStage, Recommendation, SaleStage
from domain.global_ids import to_global_id
from domain.lifecycle import days_since
from plans.selection import Selected, Unplannable
from resolvers.pagination import encode_cursor

RowFunction = Callable[[Any, datetime], dict[str, Any]]
EdgeFunction = Callable[[Any, datetime, str], dict[str, Any]]

# Each enum's GraphQL name is its stored value in capitals; `.upper()` relies on it.
for _enum in (LeadSource, LeadStage, Recommendation, SaleStage):
    assert all(member.name == member.value.upper() for member in _enum), _enum


class _Row:
    """The columns one generated function reads, each given an index as it is first used."""

    def __init__(self) -> None:
        self.columns: list[Column] = []

    def at(self, table: str, name: str) -> str:
        column = Column(table, name)
        if column not in self.columns:
            self.columns.append(column)
        return f"r[{self.columns.index(column)}]"


def _plain(table: str, name: str) -> Callable[[_Row], str]:
    return lambda row: row.at(table, name)


def _upper(table: str, name: str) -> Callable[[_Row], str]:
    return lambda row: f"{row.at(table, name)}.upper()"


def _moment(table: str, name: str) -> Callable[[_Row], str]:
    return lambda row: f"_iso({row.at(table, name)})"


def _global_id(type_name: str, table: str) -> Callable[[_Row], str]:
    return lambda row: f"_gid({type_name!r}, {row.at(table, 'id')})"


def _typename(name: str) -> Callable[[_Row], str]:
    return lambda _row: repr(name)


_LEAD_LEAVES: dict[str, Callable[[_Row], str]] = {
    "__typename": _typename("Lead"),
    "id": _global_id("Lead", LEAD),
    "name": _plain(LEAD, "name"),
    "company": _plain(LEAD, "company"),
    "email": _plain(LEAD, "email"),
    "phone": _plain(LEAD, "phone"),
    "source": _upper(LEAD, "source"),
    "businessDomain": _plain(LEAD, "business_domain"),
    "hasBusinessDomain": lambda row: f"({row.at(LEAD, 'business_domain')} is not None)",
    "stage": _upper(LEAD, "stage"),
    "lostReason": _plain(LEAD, "lost_reason"),
    "messageCount": _plain(LEAD, "message_count"),
    "version": _plain(LEAD, "version"),
    "createdAt": _moment(LEAD, "created_at"),
    "updatedAt": _moment(LEAD, "updated_at"),
    "daysSinceCreated": lambda row: f"_days({row.at(LEAD, 'created_at')}, now=now)",
}

_ANALYSIS_LEAVES: dict[str, Callable[[_Row], str]] = {
    "__typename": _typename("LeadAnalysis"),
    "id": _global_id("LeadAnalysis", ANALYSIS),
    "score": _plain(ANALYSIS, "score"),
    "recommendation": _upper(ANALYSIS, "recommendation"),
    "reason": _plain(ANALYSIS, "reason"),
    "scorer": _plain(ANALYSIS, "scorer"),
    "promptVersion": _plain(ANALYSIS, "prompt_version"),
    "latencyMs": _plain(ANALYSIS, "latency_ms"),
    "tokensIn": _plain(ANALYSIS, "tokens_in"),
    "tokensOut": _plain(ANALYSIS, "tokens_out"),
    "createdAt": _moment(ANALYSIS, "created_at"),
}

_SALE_LEAVES: dict[str, Callable[[_Row], str]] = {
    "__typename": _typename("Sale"),
    "id": _global_id("Sale", SALE),
    "stage": _upper(SALE, "stage"),
    "amount": lambda row: f"_decimal({row.at(SALE, 'amount')})",
    "currency": _plain(SALE, "currency"),
    "version": _plain(SALE, "version"),
    "createdAt": _moment(SALE, "created_at"),
    "updatedAt": _moment(SALE, "updated_at"),
}


def _object(fields: Sequence[Selected], row: _Row, leaves: dict[str, Any]) -> str:
    entries = []
    for field in fields:
        if field.name not in leaves:
            raise Unplannable(f"field {field.name}")
        entries.append(f"{field.key!r}: {leaves[field.name](row)}")
    return "{" + ", ".join(entries) + "}"


def _lead(fields: Sequence[Selected], row: _Row) -> str:
    entries = []
    for field in fields:
        if field.name == "latestAnalysis":
            value = _latest_analysis(field.children, row)
        elif field.name == "sale":
            value = _sale(field.children, row)
        elif field.name in _LEAD_LEAVES:
            value = _LEAD_LEAVES[field.name](row)
        else:
            raise Unplannable(f"field Lead.{field.name}")
        entries.append(f"{field.key!r}: {value}")
    return "{" + ", ".join(entries) + "}"


def _latest_analysis(fields: Sequence[Selected], row: _Row) -> str:
    present = row.at(ANALYSIS, "id")
    return f"(None if {present} is None else {_object(fields, row, _ANALYSIS_LEAVES)})"


def _sale(fields: Sequence[Selected], row: _Row) -> str:
    # As resolvers/leads.sale: only a transferred lead shows its sale.
    stage, present = row.at(LEAD, "stage"), row.at(SALE, "id")
    body = _object(fields, row, _SALE_LEAVES)
    return f"(None if {stage} != 'transferred' or {present} is None else {body})"


def compile_row(fields: Sequence[Selected]) -> tuple[Selection, RowFunction]:
    """The columns to select for a Lead's `fields`, and the function turning a row of
    them into the Lead's JSON object: `lead_object(row, now)`."""
    row = _Row()
    row.at(LEAD, "id")  # always column 0, for the cursor
    expression = _lead(fields, row)
    return Selection(tuple(row.columns)), _compile("r, now", expression)


def compile_edge(fields: Sequence[Selected]) -> tuple[Selection, EdgeFunction]:
    """As `compile_row`, for a LeadEdge: `edge(row, now, ordering)`. The row's last
    column is its sort value (db/queries/lead_reads.page_sql adds it)."""
    row = _Row()
    row.at(LEAD, "id")
    entries = []
    for field in fields:
        if field.name == "node":
            value = _lead(field.children, row)
        elif field.name == "cursor":
            value = "_cursor(ordering, r[-1], r[0])"
        elif field.name == "__typename":
            value = repr("LeadEdge")
        else:
            raise Unplannable(f"field LeadEdge.{field.name}")
        entries.append(f"{field.key!r}: {value}")
    expression = "{" + ", ".join(entries) + "}"
    return Selection(tuple(row.columns)), _compile("r, now, ordering", expression)


def _compile(parameters: str, expression: str) -> Any:
    """One function returning `expression`. Keys are GraphQL names (letters, digits and
    underscores, validated by the parser), written with repr; the rest is ours."""
    namespace: dict[str, Any] = {
        "_gid": to_global_id,
        "_iso": datetime.isoformat,
        "_days": days_since,
        "_decimal": _decimal,
        "_cursor": encode_cursor,
    }
    exec(f"def shape({parameters}):\n    return {expression}\n", namespace)  # noqa: S102
    return namespace["shape"]


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)
