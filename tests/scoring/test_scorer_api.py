"""trainScorer, chooseScorer and scorerSettings over HTTP: cold start, training on the
non-held-out outcomes only, versions, and a switch of scorer that needs no restart."""

from typing import Any

import httpx

from settings import Settings
from tests.api.operations import analyze, codes, ok
from tests.conftest import GraphQLClient, bearer, start_server
from tests.factories import closed_history, lead_at_stage

TRAIN = """
mutation {
  trainScorer {
    model { version algorithm outcomes wins examples trainedBy
            heldOut { outcomes learned { rocAuc } heuristic { rocAuc } }
            weights { feature weight } }
    userErrors { code message }
  }
}
"""
CHOOSE = """
mutation($scorer: ScorerKind!) {
  chooseScorer(input: {scorer: $scorer}) {
    settings { chosen active modelConfigured learnedModel { version } }
    userErrors { code message field }
  }
}
"""
SETTINGS = "{ scorerSettings { chosen active modelConfigured learnedModel { version } } }"


async def _train(gql: GraphQLClient) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(TRAIN))["trainScorer"]
    return payload


async def _choose(gql: GraphQLClient, scorer: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(CHOOSE, {"scorer": scorer}))["chooseScorer"]
    return payload


async def _scorer_of_new_analysis(gql: GraphQLClient) -> str:
    lead = await lead_at_stage(gql, "CONTACTED", businessDomain="fintech")
    scorer: str = ok(await analyze(gql, lead["id"]))["analysis"]["scorer"]
    return scorer


async def test_by_default_the_configured_scorer_answers(gql: GraphQLClient) -> None:
    settings = (await gql.data(SETTINGS))["scorerSettings"]
    assert settings == {
        "chosen": None,
        "active": "HEURISTIC",
        "modelConfigured": False,
        "learnedModel": None,
    }


async def test_below_the_minimum_training_declines_and_stores_nothing(
    gql: GraphQLClient,
) -> None:
    # given three closed leads
    await closed_history(gql, wins=1, losses=2)
    # when training is asked for
    payload = await _train(gql)
    # then it declines, saying how many there are and how many are needed
    assert payload["model"] is None
    assert codes(payload) == ["NOT_ENOUGH_OUTCOMES"]
    assert "at least 10 closed leads" in payload["userErrors"][0]["message"]
    assert (await gql.data(SETTINGS))["scorerSettings"]["learnedModel"] is None


async def test_learned_before_any_training_falls_back_to_the_configured_scorer(
    gql: GraphQLClient,
) -> None:
    assert (await _choose(gql, "LEARNED"))["settings"]["active"] == "LEARNED"
    lead = await lead_at_stage(gql, "CONTACTED", businessDomain="fintech")
    first = ok(await analyze(gql, lead["id"]))["analysis"]
    assert first["scorer"] == "heuristic (fallback from learned)"
    # and its analyses are reused from the cache like any scorer's
    again = ok(await analyze(gql, lead["id"]))["analysis"]
    assert again["id"] == first["id"]


async def test_training_learns_from_the_non_held_out_outcomes_and_numbers_versions(
    gql: GraphQLClient,
) -> None:
    # given enough closed leads outside the held-out split (and maybe some inside it)
    trainable = await closed_history(gql, wins=5, losses=5)
    # when trained twice
    first = await _train(gql)
    second = await _train(gql)
    # then two versions, each fitted on exactly the non-held-out outcomes
    assert first["userErrors"] == []
    model = first["model"]
    assert (model["version"], second["model"]["version"]) == (1, 2)
    assert (model["algorithm"], model["outcomes"], model["wins"]) == (
        "logistic_regression",
        trainable,
        5,
    )
    # each won lead teaches at 3 stages; each lost one (lost at CONTACTED) at 2
    assert model["examples"] == 5 * 3 + 5 * 2
    assert model["trainedBy"] is not None
    features = {weight["feature"] for weight in model["weights"]}
    assert {"source:cold_outreach", "stage:new", "messages", "business_domain", "age"} <= features
    assert (await gql.data(SETTINGS))["scorerSettings"]["learnedModel"] == {"version": 2}


async def test_switching_the_scorer_takes_effect_at_once_in_every_server(
    gql: GraphQLClient, settings: Settings, migrated: str, admin_key: str
) -> None:
    # given a trained model and a second server that has been running all along
    await closed_history(gql, wins=5, losses=5)
    ok_model = await _train(gql)
    version = ok_model["model"]["version"]
    other = await start_server(settings, migrated)
    try:
        async with httpx.AsyncClient(
            base_url=other.url, timeout=30, headers=bearer(admin_key)
        ) as client:
            elsewhere = GraphQLClient(client)
            assert await _scorer_of_new_analysis(elsewhere) == "heuristic"
            # when the tenant chooses the learned scorer on the first server
            await _choose(gql, "LEARNED")
            # then the second one scores with it from its next analysis
            assert await _scorer_of_new_analysis(elsewhere) == f"learned:v{version}"
            # and back again
            await _choose(gql, "HEURISTIC")
            assert await _scorer_of_new_analysis(elsewhere) == "heuristic"
    finally:
        await other.stop()


async def test_a_model_kind_is_refused_while_the_server_has_no_model(
    gql: GraphQLClient,
) -> None:
    for kind in ("MODEL", "LEARNED_WITH_MODEL_REASONS"):
        payload = await _choose(gql, kind)
        assert payload["settings"] is None
        assert codes(payload) == ["VALIDATION_FAILED"]
        assert "CRM_AI_MODEL" in payload["userErrors"][0]["message"]
    assert (await gql.data(SETTINGS))["scorerSettings"]["chosen"] is None


async def test_a_learned_analysis_explains_itself_with_factors(gql: GraphQLClient) -> None:
    await closed_history(gql, wins=5, losses=5)
    await _train(gql)
    await _choose(gql, "LEARNED")
    lead = await lead_at_stage(gql, "CONTACTED", businessDomain="fintech")
    analysis = ok(await analyze(gql, lead["id"]))["analysis"]
    assert 0.0 <= analysis["score"] <= 1.0
    assert "learned from 10 closed leads (v1)" in analysis["reason"]


async def test_choosing_and_training_are_in_the_audit_log(gql: GraphQLClient) -> None:
    await closed_history(gql, wins=5, losses=5)
    await _choose(gql, "LEARNED")
    await _train(gql)
    data = await gql.data(
        "{ auditLog(first: 20) { edges { node { action entityType actor changes } } } }"
    )
    entries = {
        edge["node"]["action"]: edge["node"]
        for edge in data["auditLog"]["edges"]
        if edge["node"]["action"].startswith("scorer.")
    }
    assert entries["scorer.chosen"]["entityType"] == "ScorerSettings"
    assert entries["scorer.chosen"]["changes"]["scorer"] == {"before": None, "after": "learned"}
    assert entries["scorer.trained"]["entityType"] == "ScorerModel"
    assert entries["scorer.trained"]["changes"]["version"]["after"] == 1
