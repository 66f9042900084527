"""Decided for now: every manager of a tenant works every lead of that tenant (a team
sells together); per-lead ownership is a later, opt-in feature (see the README)."""

from domain.access import Role
from tests.api.operations import change_stage, create_lead, ok, read_lead
from tests.conftest import UserClient


async def test_a_manager_works_a_lead_another_manager_created(gql_as: UserClient) -> None:
    # given a lead created by one manager
    ann = await gql_as("ann@team.example", Role.MANAGER)
    ben = await gql_as("ben@team.example", Role.MANAGER)
    lead = await create_lead(ann, name="Shared Co", source="WEBSITE")
    # when a second manager moves it on
    ok(await change_stage(ben, lead["id"], "CONTACTED"))
    # then the change is recorded as the second manager's
    history = (await read_lead(ann, lead["id"]))["stageHistory"]
    assert [(h["toStage"], h["actor"]) for h in history] == [
        ("NEW", "ann@team.example"),
        ("CONTACTED", "ben@team.example"),
    ]
