"""The contract's Subscription part holds in our schema (tests/schema/test_contract.py
checks what Query and Mutation reach), with `eventId` added to each event type."""

from graphql import GraphQLObjectType, build_schema

from schema.root import schema
from tests.schema.test_contract import CONTRACT, type_mismatches

SUBSCRIPTION_TYPES = ("Subscription", "LeadScoreEvent", "LeadStageEvent", "SaleStageEvent")


def test_the_subscription_root_and_its_events_keep_the_contract() -> None:
    # given the contract's Subscription root and event types
    contract = build_schema(CONTRACT.read_text())
    # when each is compared with ours
    problems = [
        problem
        for name in SUBSCRIPTION_TYPES
        for problem in type_mismatches(contract.type_map[name], schema._schema.get_type(name))
    ]
    # then nothing is missing or different
    assert not problems, "our subscriptions break the contract:\n" + "\n".join(problems)


def test_each_event_type_adds_its_event_id() -> None:
    for name in SUBSCRIPTION_TYPES[1:]:
        event_type = schema._schema.get_type(name)
        assert isinstance(event_type, GraphQLObjectType)
        assert str(event_type.fields["eventId"].type) == "ID!"
