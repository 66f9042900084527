"""The schedule's training: tenants using a learned scorer get a new version when closed
leads arrived since their newest model, and only then."""

from db.database import Database
from services.scorer_training import train_where_due
from tests.conftest import LEARNED_MIN_OUTCOMES, GraphQLClient, LiveServer
from tests.factories import closed_history

CHOOSE_LEARNED = "mutation { chooseScorer(input: {scorer: LEARNED}) { userErrors { code } } }"
LATEST = "{ scorerSettings { learnedModel { version outcomes } } }"


async def _train_due(owner: Database, server: LiveServer) -> list[str]:
    app_db: Database = server.app.state.services.db
    return await train_where_due(owner=owner, app_db=app_db, min_outcomes=LEARNED_MIN_OUTCOMES)


async def test_only_tenants_using_a_learned_scorer_are_trained(
    gql: GraphQLClient, owner: Database, live_server: LiveServer
) -> None:
    # given enough history, but the tenant keeps the default scorer
    await closed_history(gql, wins=5, losses=5)
    # when the schedule runs, then nothing is trained
    assert await _train_due(owner, live_server) == []
    assert (await gql.data(LATEST))["scorerSettings"]["learnedModel"] is None


async def test_a_new_version_comes_only_when_new_outcomes_did(
    gql: GraphQLClient, owner: Database, live_server: LiveServer
) -> None:
    # given a tenant using the learned scorer, with enough history
    await closed_history(gql, wins=5, losses=5)
    await gql.data(CHOOSE_LEARNED)
    # when the schedule runs: version 1
    assert len(await _train_due(owner, live_server)) == 1
    assert (await gql.data(LATEST))["scorerSettings"]["learnedModel"]["version"] == 1
    # and again without new outcomes: nothing
    assert await _train_due(owner, live_server) == []
    # and after one more closed lead: version 2
    await closed_history(gql, wins=0, losses=1)
    assert len(await _train_due(owner, live_server)) == 1
    assert (await gql.data(LATEST))["scorerSettings"]["learnedModel"]["version"] == 2


async def test_too_few_outcomes_are_left_for_later_without_failing(
    gql: GraphQLClient, owner: Database, live_server: LiveServer
) -> None:
    await closed_history(gql, wins=1, losses=1)
    await gql.data(CHOOSE_LEARNED)
    assert await _train_due(owner, live_server) == []
