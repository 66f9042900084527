"""Import runs outlive the leads the suite truncates after each test: remove them too."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from db.database import create_engine


@pytest.fixture(autouse=True)
async def _clean_imports(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "migrated" not in request.fixturenames:
        return
    engine = create_engine(request.getfixturevalue("migrated"), pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE lead_import_rows, lead_imports"))
    finally:
        await engine.dispose()
