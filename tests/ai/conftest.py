"""Fixtures for the scorer tests; no database needed."""

from collections.abc import AsyncIterator

import pytest

from .fake_openai import FakeOpenAI, serving_fake_openai


@pytest.fixture(scope="session")
async def fake_openai_server() -> AsyncIterator[FakeOpenAI]:
    async with serving_fake_openai() as fake:
        yield fake


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The shared fake, with no requests recorded and the default reply."""
    fake_openai_server.reset()
    return fake_openai_server
