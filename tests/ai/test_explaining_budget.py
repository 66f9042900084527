"""Explanations draw on the tenant's AI budget (kept in the real PostgreSQL) as scoring
does: once it is spent, the inner assessment stands, marked, and the model is not asked."""

import dataclasses
from collections.abc import AsyncIterator

import pytest

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from services.ai.factory import ModelChain, build_model_chain

from .fake_openai import FakeOpenAI, answer
from .test_explaining import EXPLAINED, MODEL_REASON, FixedScorer, ai_settings, marked_inner
from .test_openai_scorer import FEATURES, MODEL


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[Database]:
    database = open_database(migrated, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def chain(db: Database, fake_openai: FakeOpenAI) -> AsyncIterator[ModelChain]:
    """A chain whose tenants may spend 1 token a day; one call already passes that."""
    settings = ai_settings(fake_openai, tokens_per_day=1, calls_per_minute=0, circuit_failures=1)
    built = build_model_chain(settings, db)
    yield built
    await built.aclose()


async def test_a_spent_budget_keeps_the_inner_reason(
    chain: ModelChain, fake_openai: FakeOpenAI
) -> None:
    # given a tenant whose first explanation spends the day's tokens
    fake_openai.reply = dataclasses.replace(
        answer({"reason": MODEL_REASON}), prompt_tokens=3, completion_tokens=2
    )
    scorer = chain.with_model_reasons(FixedScorer())
    with acting_for(DEFAULT_TENANT_ID):
        first = await scorer.score(FEATURES)

        # when another assessment is explained for it
        second = await scorer.score(FEATURES)

    # then the first was explained, the second stands as the inner scorer gave it, marked,
    # and the model was asked only once
    assert (first.scorer, first.reason) == (EXPLAINED, MODEL_REASON)
    assert second == marked_inner()
    assert len(fake_openai.requests) == 1


async def test_explanations_and_scorings_share_the_budget(
    chain: ModelChain, fake_openai: FakeOpenAI
) -> None:
    # given a tenant whose explanation spent the day's tokens
    fake_openai.reply = answer({"reason": MODEL_REASON})
    with acting_for(DEFAULT_TENANT_ID):
        await chain.with_model_reasons(FixedScorer()).score(FEATURES)

        # when a lead is scored by the model for it
        scored = await chain.scorer.score(FEATURES)

    # then the budget refuses that call too: the heuristic answers, the model is not asked
    assert scored.scorer == f"heuristic (fallback from openai:{MODEL})"
    assert len(fake_openai.requests) == 1


async def test_a_spent_budget_does_not_open_the_circuit(
    chain: ModelChain, fake_openai: FakeOpenAI
) -> None:
    # given a tenant over budget, behind a circuit that opens after one failure
    fake_openai.reply = answer({"reason": MODEL_REASON})
    scorer = chain.with_model_reasons(FixedScorer())
    with acting_for(DEFAULT_TENANT_ID):
        await scorer.score(FEATURES)
        assert (await scorer.score(FEATURES)) == marked_inner()

    # when an explanation is asked for with no tenant's budget in the way
    assessment = await scorer.score(FEATURES)

    # then the model is asked: a refused budget said nothing about the model's health
    assert assessment.reason == MODEL_REASON
    assert len(fake_openai.requests) == 2
