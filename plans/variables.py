"""A plan's variables, coerced the short way: their types are read from the document once,
and a request's values go straight to graphql-core's coerce_input_value.

graphql-core's get_variable_values does the same work, plus reading each variable's type
from the AST again and wording errors, on every request (a seventh of a point lookup's
time). Anything unusual (a default value, a missing or wrong value) is left to it: the
caller falls back to get_variable_values, and from there to the executor's errors.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, Undefined
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    input_is_nested_too_deeply,
)
from graphql.type import is_non_null_type
from graphql.utilities import coerce_input_value


@dataclass(frozen=True, slots=True)
class Variables:
    signatures: tuple[GraphQLVariableSignature, ...] | None  # None: always the long way

    @classmethod
    def of(cls, schema: GraphQLSchema, operation: OperationDefinitionNode) -> "Variables":
        signatures = []
        for node in operation.variable_definitions or ():
            signature = get_variable_signature(schema, node)
            if isinstance(signature, GraphQLError) or node.default_value is not None:
                return cls(None)
            signatures.append(signature)
        return cls(tuple(signatures))

    def coerce(self, given: Mapping[str, Any]) -> VariableValues | None:
        """The coerced values, or None: take graphql-core's get_variable_values."""
        if self.signatures is None:
            return None
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for signature in self.signatures:
            value = given.get(signature.name, Undefined)
            if value is Undefined:
                if is_non_null_type(signature.type):
                    return None
                sources[signature.name] = VariableValueSource(signature)
                continue
            if not isinstance(value, str) and input_is_nested_too_deeply(value, signature.type):
                return None
            result = coerce_input_value(value, signature.type)
            if result is Undefined:
                return None
            sources[signature.name] = VariableValueSource(signature, value)
            coerced[signature.name] = result
        return VariableValues(sources, coerced)
