"""A query operation compiled, once per document, into a plan: for each root field one
SQL statement and a function from its rows to the JSON the executor would give."""

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)

from plans.roots import Root, compile_root
from plans.selection import Unplannable, collect
from plans.variables import Variables


@dataclass(frozen=True, slots=True)
class ReadPlan:
    operation: OperationDefinitionNode
    roots: tuple[Root, ...]
    variables: Variables


def compile_plans(schema: GraphQLSchema, document: DocumentNode) -> dict[str | None, ReadPlan]:
    """The plan of each query operation that has one, by operation name; a document with
    one operation is also found under None, as a request without operationName runs it."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    plans: dict[str | None, ReadPlan] = {}
    for operation in operations:
        plan = _plan(schema, operation, fragments)
        if plan is None:
            continue
        if operation.name is not None:
            plans[operation.name.value] = plan
        if len(operations) == 1:
            plans[None] = plan
    return plans


def _plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> ReadPlan | None:
    query = schema.query_type
    if operation.operation is not OperationType.QUERY or operation.directives or query is None:
        return None
    try:
        roots = tuple(
            compile_root(query, selected)
            for selected in collect([operation.selection_set], query, fragments)
        )
    except Unplannable:
        return None
    return ReadPlan(operation=operation, roots=roots, variables=Variables.of(schema, operation))
