"""What a query may cost, worked out before it runs: about the objects it may return.

- A field of an object type is one object; scalars and enums cost nothing.
- A paged field (one with `first`/`last`) returns one page: the lists right inside it
  (its `edges`), and everything under them, count as many times as the page is long.
  The page is `first` or `last` (both: their sum, though the resolver refuses that),
  else the argument's default, else 20, and never more than 100 (larger pages are
  refused). Nested pages multiply: 100 leads with 20 messages each are 100 * 20.
- Any other list (stage history, score factors, stage counts, users, API keys,
  userErrors) counts as 10 objects.
- Each mutation field costs 100 more (a transaction); `analyzeLead` 1000 (it may wait on a
  language model, and one request's mutations run one after another).
- Introspection costs nothing here: graphql-core's validation bounds it.

A page size given as a variable is known only per request, so a document's cost is a
formula: a fixed part (a lower bound, checked once when the document is first seen)
plus a term per variable page, filled in from each request's variables. A variable that
is not sent counts as its declared default, else as the argument's default; `null` as
20; anything not a whole number as 100 (its coercion fails before anything runs).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    value_from_ast_untyped,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

UNPAGED_LIST_SIZE = 10
MUTATION_COST = 100
# Mutation fields that may wait on the language model.
MUTATION_COSTS = {"analyzeLead": 1000}
_PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True, slots=True)
class PageVariable:
    """A page size a request gives in a variable."""

    name: str
    when_absent: int

    def size(self, variables: Mapping[str, Any]) -> int:
        if self.name not in variables:
            return self.when_absent
        return _page_size(variables[self.name])


@dataclass(frozen=True, slots=True)
class _Term:
    factor: int
    page: PageVariable | None
    cost: "Cost"


@dataclass(frozen=True, slots=True)
class Cost:
    """fixed + sum of factor * page size * cost. Terms share their sub-formulas (a fragment's),
    so a formula stays as small as its document however often fragments are spread."""

    fixed: int = 0
    terms: tuple[_Term, ...] = ()

    @staticmethod
    def sum(costs: Iterable["Cost"]) -> "Cost":
        parts = list(costs)
        shared = tuple(_Term(1, None, Cost(0, part.terms)) for part in parts if part.terms)
        return Cost(sum(part.fixed for part in parts), shared)

    def plus(self, fixed: int) -> "Cost":
        return Cost(self.fixed + fixed, self.terms)

    def times(self, page: int | PageVariable) -> "Cost":
        if isinstance(page, PageVariable):
            return Cost(0, (_Term(1, page, self),)) if self.fixed or self.terms else self
        scaled = (_Term(page, None, Cost(0, self.terms)),) if self.terms else ()
        return Cost(self.fixed * page, scaled)

    def total(self, variables: Mapping[str, Any]) -> int:
        """The cost for these variables; each shared sub-formula is worked out once."""
        known: dict[int, int] = {}

        def value(cost: Cost) -> int:
            if id(cost) not in known:
                known[id(cost)] = cost.fixed + sum(
                    term.factor
                    * (1 if term.page is None else term.page.size(variables))
                    * value(term.cost)
                    for term in cost.terms
                )
            return known[id(cost)]

        return value(self)


ZERO = Cost()


def operation_costs(schema: GraphQLSchema, document: DocumentNode) -> dict[str | None, Cost]:
    """The cost formula of each operation, by its name (None for an anonymous one).

    Runs after validation: every field, type and fragment exists and fragments have no
    cycles. Each fragment is estimated once per operation (its variables' defaults are
    the operation's)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs: dict[str | None, Cost] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = schema.get_root_type(definition.operation)
        if root is None:
            continue
        level = _Estimate(schema, fragments, definition).selections(definition.selection_set, root)
        name = definition.name.value if definition.name else None
        costs[name] = Cost.sum([level.single, level.listed.times(UNPAGED_LIST_SIZE)])
    return costs


@dataclass(frozen=True, slots=True)
class _Level:
    """A selection set's cost: its single objects, and one item of each of its lists."""

    single: Cost
    listed: Cost


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self._estimated: dict[str, _Level] = {}

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> _Level:
        single: list[Cost] = []
        listed: list[Cost] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost, is_list = self._field(selection, parent)
                (listed if is_list else single).append(cost)
                continue
            if isinstance(selection, InlineFragmentNode):
                level = self._inline(selection, parent)
            elif isinstance(selection, FragmentSpreadNode):
                level = self._spread(selection.name.value)
            else:  # pragma: no cover - the three kinds of selection
                continue
            single.append(level.single)
            listed.append(level.listed)
        return _Level(Cost.sum(single), Cost.sum(listed))

    def _inline(self, fragment: InlineFragmentNode, parent: GraphQLNamedType) -> _Level:
        condition = fragment.type_condition
        named = parent if condition is None else self._schema.get_type(condition.name.value)
        assert named is not None
        return self.selections(fragment.selection_set, named)

    def _spread(self, name: str) -> _Level:
        if name not in self._estimated:
            fragment = self._fragments[name]
            named = self._schema.get_type(fragment.type_condition.name.value)
            assert named is not None
            self._estimated[name] = self.selections(fragment.selection_set, named)
        return self._estimated[name]

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> tuple[Cost, bool]:
        """(cost of one result of the field, whether the field is a list)."""
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return ZERO, False
        definition = parent.fields[name]
        own = MUTATION_COSTS.get(name, MUTATION_COST) if parent is self._schema.mutation_type else 0
        named = get_named_type(definition.type)
        if is_leaf_type(named) or node.selection_set is None:
            return Cost(own), False
        children = self.selections(node.selection_set, named)
        items = [children.listed.times(page) for page in self._pages(node, definition)]
        cost = Cost.sum([children.single, *items]).plus(own + 1)
        return cost, is_list_type(get_nullable_type(definition.type))

    def _pages(self, node: FieldNode, definition: GraphQLField) -> list[int | PageVariable]:
        """How long the lists right inside this field are: its page, if it is paged."""
        if not any(name in definition.args for name in _PAGE_ARGUMENTS):
            return [UNPAGED_LIST_SIZE]
        first = definition.args.get("first")
        default = None if first is None or first.default_value is Undefined else first.default_value
        fallback = _page_size(default)
        given = [a.value for a in node.arguments or () if a.name.value in _PAGE_ARGUMENTS]
        return [self._page(value, fallback) for value in given] or [fallback]

    def _page(self, value: ValueNode, fallback: int) -> int | PageVariable:
        if isinstance(value, VariableNode):
            name = value.name.value
            default = self._defaults.get(name)
            if default is None:
                return PageVariable(name, fallback)
            return PageVariable(name, _page_size(value_from_ast_untyped(default)))
        if isinstance(value, IntValueNode):
            return _page_size(int(value.value))
        if isinstance(value, NullValueNode):
            return DEFAULT_PAGE_SIZE
        return MAX_PAGE_SIZE  # pragma: no cover - validation allows only the above for Int


def _page_size(value: Any) -> int:
    """The size a resolver would serve for this argument value (see resolvers/pagination)."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, int) and not isinstance(value, bool):
        return min(max(value, 0), MAX_PAGE_SIZE)
    return MAX_PAGE_SIZE
