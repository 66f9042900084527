"""The public contract (shared/api.graphql) holds in our schema, type for type.

Our schema may add types, fields and optional arguments; it may not drop, rename or
retype anything the contract promises. This module checks what the Query and Mutation
roots reach; tests/realtime/test_contract.py checks the Subscription root and its event
types.
"""

from typing import cast

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    is_non_null_type,
    is_required_argument,
    is_required_input_field,
)
from graphql.utilities.print_schema import print_input_value

from schema.root import schema
from settings import PROJECT_ROOT

# CI clones the repository with shared/ beside it.
CONTRACT = PROJECT_ROOT.parent / "shared" / "api.graphql"

_KINDS = (
    GraphQLScalarType,
    GraphQLObjectType,
    GraphQLInterfaceType,
    GraphQLUnionType,
    GraphQLEnumType,
    GraphQLInputObjectType,
)


def _kind(named: GraphQLNamedType) -> str:
    return next(kind.__name__ for kind in _KINDS if isinstance(named, kind))


def _referenced(contract: GraphQLSchema, named: GraphQLNamedType) -> list[GraphQLNamedType]:
    """The types a type points at: field, argument and input types, interfaces, members."""
    found: list[GraphQLNamedType] = []
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field in named.fields.values():
            found.append(get_named_type(field.type))
            found.extend(get_named_type(arg.type) for arg in field.args.values())
        found.extend(named.interfaces)
    if isinstance(named, GraphQLInterfaceType):
        found.extend(contract.get_possible_types(named))
    if isinstance(named, GraphQLUnionType):
        found.extend(named.types)
    if isinstance(named, GraphQLInputObjectType):
        found.extend(get_named_type(field.type) for field in named.fields.values())
    return found


def promised_types(contract: GraphQLSchema) -> list[GraphQLNamedType]:
    """The contract's types reachable from Query and Mutation (not from Subscription)."""
    seen: dict[str, GraphQLNamedType] = {}
    pending: list[GraphQLNamedType] = [
        root for root in (contract.query_type, contract.mutation_type) if root is not None
    ]
    while pending:
        named = pending.pop()
        if named.name not in seen:
            seen[named.name] = named
            pending.extend(_referenced(contract, named))
    return [seen[name] for name in sorted(seen)]


def _printed(name: str, value: GraphQLArgument | GraphQLInputField) -> str:
    """`name: Type = default`; an explicit `= null` on a nullable value is the same as none."""
    # Input fields print exactly like arguments; graphql-core only types it for arguments.
    printed = print_input_value(name, cast(GraphQLArgument, value))
    return printed.removesuffix(" = null") if not is_non_null_type(value.type) else printed


def _input_value_mismatches(
    where: str,
    promised: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    ours: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
) -> list[str]:
    """Same type and default for every promised value; nothing new the client must send."""
    problems: list[str] = []
    for name, value in promised.items():
        if name not in ours:
            problems.append(f"{where}.{name}: missing")
            continue
        expected, actual = _printed(name, value), _printed(name, ours[name])
        if expected != actual:
            problems.append(f"{where}: contract `{expected}`, ours `{actual}`")
    for name, value in ours.items():
        required = (
            is_required_argument(value)
            if isinstance(value, GraphQLArgument)
            else is_required_input_field(value)
        )
        if name not in promised and required:
            problems.append(f"{where}.{name}: ours adds it as required")
    return problems


def _field_mismatches(
    type_name: str, promised: dict[str, GraphQLField], ours: dict[str, GraphQLField]
) -> list[str]:
    problems: list[str] = []
    for name, field in promised.items():
        where = f"{type_name}.{name}"
        if name not in ours:
            problems.append(f"{where}: missing field")
            continue
        if str(field.type) != str(ours[name].type):
            problems.append(f"{where}: contract `{field.type}`, ours `{ours[name].type}`")
        problems += _input_value_mismatches(where, field.args, ours[name].args)
    return problems


def type_mismatches(promised: GraphQLNamedType, ours: GraphQLNamedType | None) -> list[str]:
    name = promised.name
    if ours is None:
        return [f"{name}: missing type"]
    if _kind(ours) != _kind(promised):
        return [f"{name}: contract {_kind(promised)}, ours {_kind(ours)}"]
    if isinstance(promised, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(ours, GraphQLObjectType | GraphQLInterfaceType)
        missing = {i.name for i in promised.interfaces} - {i.name for i in ours.interfaces}
        problems = [f"{name}: does not implement {interface}" for interface in sorted(missing)]
        return problems + _field_mismatches(name, promised.fields, ours.fields)
    if isinstance(promised, GraphQLInputObjectType):
        assert isinstance(ours, GraphQLInputObjectType)
        return _input_value_mismatches(name, promised.fields, ours.fields)
    if isinstance(promised, GraphQLEnumType):
        assert isinstance(ours, GraphQLEnumType)
        return [
            f"{name}.{value}: missing enum value"
            for value in promised.values.keys() - ours.values.keys()
        ]
    return []


def test_every_promise_of_the_contract_holds_in_our_schema() -> None:
    # given the contract, parsed as a schema
    assert CONTRACT.is_file(), f"expected the shared contract at {CONTRACT}"
    contract = build_schema(CONTRACT.read_text())
    # when each type it promises is compared with ours
    problems = [
        problem
        for promised in promised_types(contract)
        for problem in type_mismatches(promised, schema._schema.get_type(promised.name))
    ]
    # then nothing is missing or different
    assert not problems, "our schema breaks the contract:\n" + "\n".join(problems)


def test_the_subscription_part_is_what_is_left_out() -> None:
    # given the contract
    contract = build_schema(CONTRACT.read_text())
    # when the types reachable from Query and Mutation are set aside
    checked = {named.name for named in promised_types(contract)}
    left_out = {name for name in contract.type_map if not name.startswith("__")} - checked
    # then only the subscription types and the JSON scalar remain unchecked
    assert left_out == {
        "Subscription",
        "LeadScoreEvent",
        "LeadStageEvent",
        "SaleStageEvent",
        "JSON",
    }


@pytest.mark.parametrize(
    ("contract_sdl", "our_sdl", "expected"),
    [
        (
            "type T { a(first: Int = 20): String!  b: Int }",
            "type T { a(first: Int!, x: Int!): String }",
            [
                "T.a: contract `String!`, ours `String`",
                "T.a: contract `first: Int = 20`, ours `first: Int!`",
                "T.a.x: ours adds it as required",
                "T.b: missing field",
            ],
        ),
        (
            "input T { a: Int! = 1  b: String }",
            "input T { a: Int!  c: Int! }",
            [
                "T: contract `a: Int! = 1`, ours `a: Int!`",
                "T.b: missing",
                "T.c: ours adds it as required",
            ],
        ),
        ("enum T { A B }", "enum T { A C }", ["T.B: missing enum value"]),
        (
            "interface T { id: ID! }",
            "type T { id: ID! }",
            ["T: contract GraphQLInterfaceType, ours GraphQLObjectType"],
        ),
        (
            "type T { a: [Int!] b(x: Int): Int }",
            "type T { a: [Int!] b(x: Int = null, y: Int): Int c: Int! }",
            [],
        ),
    ],
)
def test_each_kind_of_break_is_reported(
    contract_sdl: str, our_sdl: str, expected: list[str]
) -> None:
    # given a contract type and our version of it
    def named_t(sdl: str) -> GraphQLNamedType:
        found = build_schema(sdl + " type Query { t: Int }").get_type("T")
        assert found is not None
        return found

    # when they are compared
    problems = type_mismatches(named_t(contract_sdl), named_t(our_sdl))
    # then every break is listed, and additions or an explicit `= null` are not breaks
    assert problems == expected
