"""The fields a selection set asks for, fragments flattened and same-named fields merged,
as GraphQL's CollectFields does, for documents without directives."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)


class Unplannable(Exception):
    """This document (or request) is left to the general executor."""


@dataclass(frozen=True, slots=True)
class Selected:
    key: str  # the response key: the alias, or the field's name
    name: str
    node: FieldNode  # the first occurrence; validation made all occurrences agree
    children: tuple["Selected", ...]


Fragments = Mapping[str, FragmentDefinitionNode]


def collect(
    selection_sets: Iterable[SelectionSetNode | None],
    parent: GraphQLObjectType,
    fragments: Fragments,
) -> tuple[Selected, ...]:
    """The merged fields of `selection_sets` on the object type `parent`, with theirs."""
    grouped: dict[str, list[FieldNode]] = {}
    for selection_set in selection_sets:
        if selection_set is not None:
            _gather(selection_set, parent.name, fragments, grouped)
    return tuple(_selected(key, nodes, parent, fragments) for key, nodes in grouped.items())


def _selected(
    key: str, nodes: list[FieldNode], parent: GraphQLObjectType, fragments: Fragments
) -> Selected:
    name = nodes[0].name.value
    children: tuple[Selected, ...] = ()
    if nodes[0].selection_set is not None:
        if name not in parent.fields:  # __schema, __type
            raise Unplannable("introspection")
        field_type = get_named_type(parent.fields[name].type)
        if not isinstance(field_type, GraphQLObjectType):
            raise Unplannable("a field of an abstract type")
        children = collect((node.selection_set for node in nodes), field_type, fragments)
    return Selected(key=key, name=name, node=nodes[0], children=children)


def _gather(
    selection_set: SelectionSetNode,
    type_name: str,
    fragments: Fragments,
    grouped: dict[str, list[FieldNode]],
) -> None:
    for selection in selection_set.selections:
        if selection.directives:
            raise Unplannable("directives")
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            if fragment.directives or fragment.type_condition.name.value != type_name:
                raise Unplannable("fragment on another type")
            _gather(fragment.selection_set, type_name, fragments, grouped)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is not None and condition.name.value != type_name:
                raise Unplannable("fragment on another type")
            _gather(selection.selection_set, type_name, fragments, grouped)
