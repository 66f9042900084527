"""Parsing and validating GraphQL documents once per distinct query text.

Parse and validation results are cached by the query string, so a client that repeats
an operation (every SPA does) pays for neither again. Limits are checked here too:
tokens while parsing, introspection (when it is off) during validation, then depth,
aliases and cost (web/cost.py), and the read plan of each query operation that can have
one (plans/) is compiled. A cost that depends on variable page sizes is kept as a
formula and finished per request. Every error a document can have is a request error
the client must fix, so each carries `extensions.code` BAD_REQUEST like the transport's
own.
"""

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Visitor

from plans.compiler import ReadPlan, compile_plans
from web.cost import Cost, operation_costs

BAD_REQUEST = "BAD_REQUEST"


@dataclass(frozen=True, slots=True)
class Limits:
    max_tokens: int
    max_depth: int
    max_aliases: int
    max_cost: int = 10_000
    introspection: bool = True


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document ready to execute, or the errors that stop it (parse or validation)."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    costs: Mapping[str | None, Cost] = field(default_factory=dict)
    plans: Mapping[str | None, ReadPlan] = field(default_factory=dict)

    def operation_type(self, operation_name: str | None) -> OperationType | None:
        """The type of the operation that would run; None when there is no such operation."""
        operation = self.operation(operation_name)
        return None if operation is None else operation.operation

    def operation(self, operation_name: str | None) -> OperationDefinitionNode | None:
        if self.document is None:
            return None
        for definition in self.document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                operation_name is None
                or (definition.name is not None and definition.name.value == operation_name)
            ):
                return definition
        return None


class DocumentCache:
    """Least-recently-used cache of prepared documents, bounded by entries and by size.

    The size bound (total characters of cached query text) keeps a client that sends
    many huge distinct queries from filling memory: an AST costs ~70 bytes per character.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: Limits,
        size: int = 1000,
        max_chars: int = 2_000_000,
    ) -> None:
        self._schema = schema
        self._limits = limits
        self._size = size
        self._max_chars = max_chars
        self._chars = 0
        self._entries: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._rules = specified_rules
        if not limits.introspection:
            self._rules = (*specified_rules, _NoIntrospection)

    def prepare(self, query: str) -> PreparedDocument:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        entry = self._prepare(query)
        if len(query) <= self._max_chars // 10:
            self._remember(query, entry)
        return entry

    def cost_error(
        self,
        prepared: PreparedDocument,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> GraphQLError | None:
        """The cost check left for each request: variable page sizes. A cost without any
        was checked (and refused) once, when the document was prepared."""
        operation = prepared.operation(operation_name)
        if operation is None:
            return None
        cost = prepared.costs.get(operation.name.value if operation.name else None)
        if cost is None or not cost.terms:
            return None
        total = cost.total(variables or {})
        if total <= self._limits.max_cost:
            return None
        return as_bad_request(_over_budget(operation, total, self._limits.max_cost))

    def _remember(self, query: str, entry: PreparedDocument) -> None:
        self._entries[query] = entry
        self._chars += len(query)
        while len(self._entries) > self._size or self._chars > self._max_chars:
            evicted, _ = self._entries.popitem(last=False)
            self._chars -= len(evicted)

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, max_lexical_tokens=self._limits.max_tokens, max_comments=1000)
        except GraphQLError as error:
            return PreparedDocument(None, (as_bad_request(error),))
        errors = validate(self._schema, document, self._rules)
        if not errors:
            errors = _limit_errors(document, self._limits)
        costs = {} if errors else operation_costs(self._schema, document)
        if not errors:
            errors = _cost_errors(document, costs, self._limits.max_cost)
        if errors:
            return PreparedDocument(None, tuple(as_bad_request(error) for error in errors))
        return PreparedDocument(document, (), costs, compile_plans(self._schema, document))


def as_bad_request(error: GraphQLError) -> GraphQLError:
    """The same error, marked with extensions.code BAD_REQUEST."""
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions={**(error.extensions or {}), "code": BAD_REQUEST},
    )


def _limit_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors: list[GraphQLError] = []
    measured: dict[str, tuple[int, int]] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth, aliases = _measure(definition.selection_set, fragments, measured)
        if depth > limits.max_depth:
            errors.append(
                GraphQLError(
                    f"The query is {depth} levels deep; at most {limits.max_depth} are allowed.",
                    definition,
                )
            )
        if aliases > limits.max_aliases:
            errors.append(
                GraphQLError(
                    f"The query uses {aliases} aliases; at most {limits.max_aliases} are allowed.",
                    definition,
                )
            )
    return errors


def _cost_errors(
    document: DocumentNode, costs: Mapping[str | None, Cost], max_cost: int
) -> list[GraphQLError]:
    """Refuse, once per document, an operation whose least possible cost is too high."""
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        cost = costs.get(definition.name.value if definition.name else None)
        if cost is not None and cost.fixed > max_cost:
            errors.append(_over_budget(definition, cost.fixed, max_cost))
    return errors


def _over_budget(operation: OperationDefinitionNode, cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"The query costs {cost} (about the objects it may return, plus its mutations); "
        f"at most {max_cost} is allowed. Ask for smaller pages or fewer nested lists.",
        operation,
    )


class _NoIntrospection(ValidationRule):
    """`__schema` and `__type` are refused, once each; `__typename` still works."""

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        if node.name.value not in {"__schema", "__type"}:
            return None
        self.report_error(
            GraphQLError(f"Introspection is turned off on this server: `{node.name.value}`.", node)
        )
        return Visitor.SKIP


def _measure(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    measured: dict[str, tuple[int, int]],
) -> tuple[int, int]:
    """(depth, aliases) of a selection set; introspection fields add no depth.

    GraphiQL's introspection query nests `ofType` ~9 deep, past any sensible depth limit;
    graphql-core's own validation (MaxIntrospectionDepthRule) bounds introspection's
    fan-out instead. Runs after validation, so fragments exist and have no cycles; each
    is measured once.
    """
    if selection_set is None:
        return 0, 0
    depth, aliases = 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            child_depth, child_aliases = _measure(selection.selection_set, fragments, measured)
            if not selection.name.value.startswith("__"):
                depth = max(depth, child_depth + 1)
            aliases += child_aliases + (selection.alias is not None)
        elif isinstance(selection, InlineFragmentNode):
            child_depth, child_aliases = _measure(selection.selection_set, fragments, measured)
            depth, aliases = max(depth, child_depth), aliases + child_aliases
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in measured:
                measured[name] = _measure(fragments[name].selection_set, fragments, measured)
            child_depth, child_aliases = measured[name]
            depth, aliases = max(depth, child_depth), aliases + child_aliases
    return depth, aliases
