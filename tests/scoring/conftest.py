"""The fake OpenAI-compatible server, for the learned scorer worded by a model.

The suite's settings let the learned scorer train from 10 closed leads (MIN_OUTCOMES),
the fewest allowed, so these tests need little history (tests/factories.closed_history).
"""

from collections.abc import AsyncIterator

import pytest

from tests.ai.fake_openai import FakeOpenAI, serving_fake_openai

MIN_OUTCOMES = 10


@pytest.fixture(scope="package")
async def fake_openai_server() -> AsyncIterator[FakeOpenAI]:
    async with serving_fake_openai() as fake:
        yield fake


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    fake_openai_server.reset()
    return fake_openai_server
