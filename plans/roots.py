"""The root fields a plan answers: `lead(id:)` and `leads(first:, after:, filter:,
orderBy:)`. Each turns its arguments into one SQL statement and its rows into the JSON
the executor would give; arguments the executor would refuse raise Unplannable, so the
executor answers them, with its own errors."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from graphql import GraphQLField, GraphQLObjectType
from graphql.execution.values import get_argument_values

from db.keyset import Page, PageRequest, to_page
from db.queries import lead_reads
from db.queries.lead_reads import Selection
from domain.enums import LeadOrderField, OrderDirection
from plans.selection import Selected, Unplannable
from plans.shapes import EdgeFunction, RowFunction, compile_edge, compile_row, row_cursor
from resolvers.errors import ClientError
from resolvers.ids import id_of_type
from resolvers.leads import SORT_TYPES, lead_filter
from resolvers.pagination import page_request
from schema import inputs


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str | None  # None: the answer is known without asking (an ID of another type)
    parameters: Sequence[Any]
    state: Any = None  # what `shape` needs besides the rows


class Root(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def selected(self) -> Selected: ...

    def statement(self, tenant_id: int, variables: Any) -> Statement: ...

    def shape(self, rows: Sequence[Any], statement: Statement, now: datetime) -> Any: ...


def _arguments(field: GraphQLField, selected: Selected, variables: Any) -> dict[str, Any]:
    try:
        return get_argument_values(field, selected.node, variables)
    except Exception as error:  # the executor words argument errors
        raise Unplannable("arguments") from error


@dataclass(frozen=True, slots=True)
class LeadRoot:
    key: str
    field: GraphQLField
    selected: Selected
    sql: str
    lead_object: RowFunction

    @classmethod
    def compile(cls, field: GraphQLField, selected: Selected) -> "LeadRoot":
        selection, lead_object = compile_row(selected.children)
        return cls(selected.key, field, selected, lead_reads.one_lead_sql(selection), lead_object)

    def statement(self, tenant_id: int, variables: Any) -> Statement:
        global_id = _arguments(self.field, self.selected, variables)["id"]
        try:
            lead_id = id_of_type(global_id, "Lead")
        except ClientError as error:
            raise Unplannable("id") from error
        if lead_id is None:
            return Statement(None, ())
        return Statement(self.sql, (tenant_id, lead_id))

    def shape(self, rows: Sequence[Any], statement: Statement, now: datetime) -> Any:
        return self.lead_object(rows[0], now) if rows else None


@dataclass(frozen=True, slots=True)
class _PageState:
    request: PageRequest
    ordering: str


@dataclass(frozen=True, slots=True)
class LeadsRoot:
    key: str
    field: GraphQLField
    selected: Selected
    selection: Selection
    edge: EdgeFunction | None
    edges_key: str | None
    extras: tuple[Selected, ...]  # pageInfo and __typename, in their places

    @classmethod
    def compile(cls, field: GraphQLField, selected: Selected) -> "LeadsRoot":
        edges = [child for child in selected.children if child.name == "edges"]
        if len(edges) > 1:
            raise Unplannable("edges under two keys")
        for child in selected.children:
            if child.name not in ("edges", "pageInfo", "__typename"):
                raise Unplannable(f"field LeadConnection.{child.name}")  # e.g. totalCount
        selection, edge = compile_edge(edges[0].children) if edges else (Selection(()), None)
        if not selection.columns:
            selection = compile_row(())[0]
        return cls(
            key=selected.key,
            field=field,
            selected=selected,
            selection=selection,
            edge=edge,
            edges_key=edges[0].key if edges else None,
            extras=tuple(child for child in selected.children if child.name != "edges"),
        )

    def statement(self, tenant_id: int, variables: Any) -> Statement:
        arguments = _arguments(self.field, self.selected, variables)
        if arguments.get("last") is not None or arguments.get("before") is not None:
            raise Unplannable("backward paging")
        order = _order(arguments.get("orderBy"))
        ordering = f"lead:{order.field.value}"
        try:
            conditions = lead_filter(_filter(arguments.get("filter")))
            request = page_request(
                ordering=ordering,
                sort_type=SORT_TYPES[order.field],
                first=arguments.get("first"),
                after=arguments.get("after"),
            )
        except ClientError as error:
            raise Unplannable("arguments") from error
        sql, parameters = lead_reads.page_sql(
            self.selection,
            tenant_id=tenant_id,
            lead_filter=conditions,
            order=order.field,
            descending=order.direction is OrderDirection.DESC,
            request=request,
        )
        return Statement(sql, parameters, _PageState(request, ordering))

    def shape(self, rows: Sequence[Any], statement: Statement, now: datetime) -> Any:
        state: _PageState = statement.state
        page = to_page(rows, state.request)
        answer: dict[str, Any] = {}
        for child in self.selected.children:
            if child.name == "edges":
                assert self.edge is not None
                answer[child.key] = [self.edge(row, now, state.ordering) for row in page.rows]
            elif child.name == "pageInfo":
                answer[child.key] = _page_info(child.children, page, state.ordering)
            else:
                answer[child.key] = "LeadConnection"
        return answer


def _order(given: dict[str, Any] | None) -> inputs.LeadOrder:
    if given is None:
        return inputs.LeadOrder()
    return inputs.LeadOrder(
        field=given.get("field", LeadOrderField.CREATED_AT),
        direction=given.get("direction", OrderDirection.DESC),
    )


_FILTER_FIELDS = {
    "stage": "stage",
    "source": "source",
    "businessDomain": "business_domain",
    "hasBusinessDomain": "has_business_domain",
    "minScore": "min_score",
    "maxScore": "max_score",
    "createdAfter": "created_after",
    "createdBefore": "created_before",
    "search": "search",
}


def _filter(given: dict[str, Any] | None) -> inputs.LeadFilter:
    if given is None:
        return inputs.LeadFilter()
    if not set(given) <= set(_FILTER_FIELDS):
        raise Unplannable("a filter field this plan does not know")
    return inputs.LeadFilter(**{_FILTER_FIELDS[name]: value for name, value in given.items()})


def _page_info(fields: Sequence[Selected], page: Page[Any], ordering: str) -> dict[str, Any]:
    # Cursors as resolvers.pagination.connection makes them: from the first and last edge.
    rows = page.rows
    values = {
        "__typename": "PageInfo",
        "hasNextPage": page.has_next,
        "hasPreviousPage": page.has_previous,
        "startCursor": row_cursor(rows[0], ordering) if rows else None,
        "endCursor": row_cursor(rows[-1], ordering) if rows else None,
    }
    return {field.key: values[field.name] for field in fields}


ROOTS: dict[str, type[LeadRoot] | type[LeadsRoot]] = {"lead": LeadRoot, "leads": LeadsRoot}


def compile_root(query: GraphQLObjectType, selected: Selected) -> Root:
    if selected.name not in ROOTS:
        raise Unplannable(f"root field {selected.name}")
    return ROOTS[selected.name].compile(query.fields[selected.name], selected)
