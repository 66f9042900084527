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


# Each field of a type gives the expression of its value: from the field (its own
# selections, for an object) and the row (which hands out column indexes).
Field = Callable[[Selected, _Row], str]


def _plain(table: str, name: str) -> Field:
    return lambda _field, row: row.at(table, name)


def _upper(table: str, name: str) -> Field:
    return lambda _field, row: f"{row.at(table, name)}.upper()"


def _moment(table: str, name: str) -> Field:
    return lambda _field, row: f"_iso({row.at(table, name)})"


def _global_id(type_name: str, table: str) -> Field:
    return lambda _field, row: f"_gid({type_name!r}, {row.at(table, 'id')})"


def _typename(name: str) -> Field:
    return lambda _field, _row: repr(name)


def _object(type_name: str, fields: Sequence[Selected], row: _Row) -> str:
    """The dict literal of an object of `type_name` with the selected `fields`."""
    known = _TYPES[type_name]
    entries = []
    for field in fields:
        if field.name not in known:
            raise Unplannable(f"field {type_name}.{field.name}")
        entries.append(f"{field.key!r}: {known[field.name](field, row)}")
    return "{" + ", ".join(entries) + "}"


def _latest_analysis(field: Selected, row: _Row) -> str:
    present = row.at(ANALYSIS, "id")
    body = _object("LeadAnalysis", field.children, row)
    return f"(None if {present} is None else {body})"


def _sale(field: Selected, row: _Row) -> str:
    # As resolvers/leads.sale: only a transferred lead shows its sale.
    stage, present = row.at(LEAD, "stage"), row.at(SALE, "id")
    body = _object("Sale", field.children, row)
    return f"(None if {stage} != 'transferred' or {present} is None else {body})"


_TYPES: dict[str, dict[str, Field]] = {
    "LeadEdge": {
        "__typename": _typename("LeadEdge"),
        "node": lambda field, row: _object("Lead", field.children, row),
        "cursor": lambda _field, _row: "_cursor(r, ordering)",
    },
    "Lead": {
        "__typename": _typename("Lead"),
        "id": _global_id("Lead", LEAD),
        "name": _plain(LEAD, "name"),
        "company": _plain(LEAD, "company"),
        "email": _plain(LEAD, "email"),
        "phone": _plain(LEAD, "phone"),
        "source": _upper(LEAD, "source"),
        "businessDomain": _plain(LEAD, "business_domain"),
        "hasBusinessDomain": lambda _f, row: f"({row.at(LEAD, 'business_domain')} is not None)",
        "stage": _upper(LEAD, "stage"),
        "lostReason": _plain(LEAD, "lost_reason"),
        "messageCount": _plain(LEAD, "message_count"),
        "version": _plain(LEAD, "version"),
        "createdAt": _moment(LEAD, "created_at"),
        "updatedAt": _moment(LEAD, "updated_at"),
        "daysSinceCreated": lambda _f, row: f"_days({row.at(LEAD, 'created_at')}, now=now)",
        "latestAnalysis": _latest_analysis,
        "sale": _sale,
    },
    "LeadAnalysis": {
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
    },
    "Sale": {
        "__typename": _typename("Sale"),
        "id": _global_id("Sale", SALE),
        "stage": _upper(SALE, "stage"),
        "amount": lambda _field, row: f"_decimal({row.at(SALE, 'amount')})",
        "currency": _plain(SALE, "currency"),
        "version": _plain(SALE, "version"),
        "createdAt": _moment(SALE, "created_at"),
        "updatedAt": _moment(SALE, "updated_at"),
    },
}


def compile_row(fields: Sequence[Selected]) -> tuple[Selection, RowFunction]:
    """The columns to select for a Lead's `fields`, and the function turning a row of
    them into the Lead's JSON object: `lead_object(row, now)`."""
    row = _Row()
    row.at(LEAD, "id")  # always column 0, for the cursor
    expression = _object("Lead", fields, row)
    return Selection(tuple(row.columns)), _compile("r, now", expression)


def compile_edge(fields: Sequence[Selected]) -> tuple[Selection, EdgeFunction]:
    """As `compile_row`, for a LeadEdge: `edge(row, now, ordering)`. The row's last
    column is its sort value (db/queries/lead_reads.page_sql adds it)."""
    row = _Row()
    row.at(LEAD, "id")
    expression = _object("LeadEdge", fields, row)
    return Selection(tuple(row.columns)), _compile("r, now, ordering", expression)


def row_cursor(row: Any, ordering: str) -> str:
    """A page row's cursor: its sort value is the last column, its id the first."""
    return encode_cursor(ordering, row[-1], row[0])


def _compile(parameters: str, expression: str) -> Any:
    """One function returning `expression`. Keys are GraphQL names (letters, digits and
    underscores, validated by the parser), written with repr; the rest is ours."""
    namespace: dict[str, Any] = {
        "_gid": to_global_id,
        "_iso": datetime.isoformat,
        "_days": days_since,
        "_decimal": _decimal,
        "_cursor": row_cursor,
    }
    exec(f"def shape({parameters}):\n    return {expression}\n", namespace)  # noqa: S102
    return namespace["shape"]


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)
