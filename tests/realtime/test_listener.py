"""The listener's own connection string, from any URL form the settings accept."""

import pytest

from realtime.listener import listener_dsn


@pytest.mark.parametrize(
    ("url", "dsn"),
    [
        (
            "postgresql+asyncpg://crm_app:s3cret@db:5432/crm",
            "postgresql://crm_app:s3cret@db:5432/crm",
        ),
        ("postgres://crm_app@db/crm", "postgresql://crm_app@db/crm"),
        ("postgresql://crm_app@/crm?host=/run/pg", "postgresql://crm_app@/crm?host=%2Frun%2Fpg"),
    ],
)
def test_the_listener_connects_with_a_plain_postgresql_dsn(url: str, dsn: str) -> None:
    assert listener_dsn(url) == dsn
