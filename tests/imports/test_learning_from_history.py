"""Why import history at all: the learned scorer trains on imported outcomes at once."""

from tests.conftest import GraphQLClient
from tests.imports.operations import report_of

HEADER = "name,source,stage,message_count,created_at,outcome,closed_at,amount"
TRAIN = "mutation { trainScorer { model { outcomes wins } userErrors { code message } } }"


def _history(wins: int, losses: int) -> str:
    won = [f"Won {n},partner,,{8 + n % 5},2024-01-01,won,2024-02-01,500" for n in range(wins)]
    lost = [
        f"Lost {n},cold_outreach,{('new', 'contacted')[n % 2]},{n % 3},2024-01-01,lost,2024-01-20,"
        for n in range(losses)
    ]
    return "\n".join([HEADER, *won, *lost]) + "\n"


async def test_the_learned_scorer_trains_on_an_imported_history(gql: GraphQLClient) -> None:
    # given a tenant with no outcomes of its own, and a history of 120 closed leads
    report = await report_of(gql, _history(wins=60, losses=60))
    assert report["created"] == 120

    # when the learned scorer is trained
    payload = (await gql.data(TRAIN))["trainScorer"]

    # then it learned from the imported outcomes (the held-out fifth aside)
    assert payload["userErrors"] == []
    model = payload["model"]
    assert 60 <= model["outcomes"] < 120
    assert 0 < model["wins"] < model["outcomes"]
