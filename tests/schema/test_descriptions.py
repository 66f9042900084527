"""Every type, field and argument explains itself to a GraphiQL user."""

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    is_introspection_type,
    is_specified_scalar_type,
)

from schema.root import schema


def undescribed(checked: GraphQLSchema) -> list[str]:
    """Coordinates (`Type`, `Type.field`, `Type.field(arg:)`) that have no description."""
    missing: list[str] = []
    for named in checked.type_map.values():
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        missing += _undescribed_in(named)
    return sorted(missing)


def _undescribed_in(named: GraphQLNamedType) -> list[str]:
    missing = [] if named.description else [named.name]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for name, field in named.fields.items():
            coordinate = f"{named.name}.{name}"
            missing += [] if field.description else [coordinate]
            missing += [
                f"{coordinate}({arg_name}:)"
                for arg_name, arg in field.args.items()
                if not arg.description
            ]
    if isinstance(named, GraphQLInputObjectType):
        missing += [
            f"{named.name}.{name}" for name, field in named.fields.items() if not field.description
        ]
    return missing


def test_every_type_field_and_argument_has_a_description() -> None:
    # given our schema
    # when it is searched for anything without a description
    missing = undescribed(schema._schema)
    # then there is nothing
    assert not missing, "add a description to:\n" + "\n".join(missing)


def test_what_lacks_a_description_is_named() -> None:
    # given a schema where a type, a field, an argument and an input field are bare
    bare = build_schema(
        """
        "Described."
        type Query { "Described." a(x: Int): Int  b(z: In): Int }
        input In { y: Int }
        """
    )
    # when it is searched
    missing = undescribed(bare)
    # then each of them is named, built-in scalars and introspection types are not
    assert missing == ["In", "In.y", "Query.a(x:)", "Query.b", "Query.b(z:)"]
