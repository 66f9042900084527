"""Hand-written SQL for the compiled read path (plans/): a lead, or one keyset page of
leads, with its latest analysis and sale joined, in one statement, selecting only the
columns a GraphQL document asks for.

The statements mean exactly what db/queries/leads.py's do (the same conditions, sort
expressions and keyset seek, on the same indexes); tests/plans compare every answer with
the general executor's. Texts are built once per shape and cached: a shape is which
conditions a request uses, not their values, which travel as parameters.
"""

import functools
from dataclasses import dataclass
from typing import Any

from db.keyset import PageRequest
from db.queries.leads import LeadFilter, search_pattern
from domain.enums import LeadOrderField

# Where each column comes from: l = leads, a = its latest analysis, s = its sale.
LEAD, ANALYSIS, SALE = "l", "a", "s"

_SORT = {
    LeadOrderField.CREATED_AT: "created_at",
    LeadOrderField.UPDATED_AT: "updated_at",
    LeadOrderField.SCORE: "score_key",
    LeadOrderField.MESSAGE_COUNT: "message_count",
}

_JOINS = {
    ANALYSIS: "LEFT JOIN lead_analyses AS a ON a.id = l.latest_analysis_id",
    SALE: "LEFT JOIN sales AS s ON s.lead_id = l.id",
}


@dataclass(frozen=True, slots=True)
class Column:
    table: str  # LEAD, ANALYSIS or SALE
    name: str

    @property
    def sql(self) -> str:
        return f"{self.table}.{self.name}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The columns a plan reads, in the order its shaper indexes them."""

    columns: tuple[Column, ...]

    def index(self, column: Column) -> int:
        return self.columns.index(column)


SORT_KEY = "sort_key"  # the page statement's extra last column: each row's sort value


@functools.lru_cache(maxsize=256)
def one_lead_sql(selection: Selection) -> str:
    """Parameters: $1 tenant id, $2 lead id."""
    return _select(selection, "SELECT * FROM leads WHERE tenant_id = $1 AND id = $2")


def page_sql(
    selection: Selection,
    *,
    tenant_id: int,
    lead_filter: LeadFilter,
    order: LeadOrderField,
    descending: bool,
    request: PageRequest,
) -> tuple[str, list[Any]]:
    """One forward page (`first`/`after`), `request.limit + 1` rows to tell if more follow.
    The last column is the row's sort value, for its cursor."""
    source, values = _source(lead_filter)
    conditions, condition_values = _conditions(lead_filter, first=len(values) + 2)
    values += condition_values
    seek = request.after is not None
    if request.after is not None:
        values += [request.after.sort_value, request.after.id]
    shape = (source, conditions, len(values), order, descending, seek, request.limit + 1)
    return _page_sql(selection, *shape), [tenant_id, *values]


@functools.lru_cache(maxsize=1024)
def _page_sql(
    selection: Selection,
    source: str,
    conditions: tuple[str, ...],
    parameters: int,
    order: LeadOrderField,
    descending: bool,
    seek: bool,
    limit: int,
) -> str:
    """`parameters`: how many the source, the conditions and the seek take, after the
    tenant's $1.
    The limit is part of the text: the read pool's generic plans must know it to walk an
    index rather than sort every lead (a page size is one of 101 numbers)."""
    sort = _SORT[order]
    direction = "DESC" if descending else "ASC"
    where = ["tenant_id = $1", *conditions]
    if seek:
        where.append(
            f"({sort}, id) {'<' if descending else '>'} (${parameters}, ${parameters + 1})"
        )
    # Every piece is this module's own text; values travel as parameters.
    inner = (
        f"SELECT *, {sort} AS {SORT_KEY} FROM {source} WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY {sort} {direction}, id {direction} LIMIT {limit:d}"
    )
    outer_order = f" ORDER BY l.{SORT_KEY} {direction}, l.id {direction}"
    return _select(selection, inner, extra=f", l.{SORT_KEY}") + outer_order


def _select(selection: Selection, leads_source: str, *, extra: str = "") -> str:
    columns = ", ".join(column.sql for column in selection.columns) + extra
    tables = {column.table for column in selection.columns}
    joins = "".join(f" {_JOINS[table]}" for table in (ANALYSIS, SALE) if table in tables)
    return f"SELECT {columns} FROM ({leads_source}) AS l{joins}"  # noqa: S608


def _source(f: LeadFilter) -> tuple[str, list[Any]]:
    """Where the leads are read from: the table, or a search's matches (migration 0019
    says why), its pattern then $2."""
    if f.search:
        return "crm_leads_found($2) AS leads", [search_pattern(f.search)]
    return "leads", []


def _conditions(f: LeadFilter, *, first: int) -> tuple[tuple[str, ...], list[Any]]:
    """db/queries/leads.py's filter as SQL text, search aside (`_source`); parameters are
    numbered from `first`."""
    conditions: list[str] = []
    values: list[Any] = []

    def add(template: str, value: Any) -> None:
        values.append(value)
        conditions.append(template.format(f"${first + len(values) - 1}"))

    if f.stages is not None:
        add("stage = ANY({})", [stage.value for stage in f.stages])
    if f.sources is not None:
        add("source = ANY({})", [source.value for source in f.sources])
    if f.business_domain is not None:
        add("domain_key = {}", f.business_domain.lower())
    if f.has_business_domain is not None:
        negation = "NOT " if f.has_business_domain else ""
        conditions.append(f"business_domain IS {negation}NULL")
    if f.min_score is not None or f.max_score is not None:
        conditions.append("latest_score IS NOT NULL")
    if f.min_score is not None:
        add(f"{_SORT[LeadOrderField.SCORE]} >= {{}}", f.min_score)
    if f.max_score is not None:
        add(f"{_SORT[LeadOrderField.SCORE]} <= {{}}", f.max_score)
    if f.created_after is not None:
        add("created_at >= {}", f.created_after)
    if f.created_before is not None:
        add("created_at < {}", f.created_before)
    return tuple(conditions), values
