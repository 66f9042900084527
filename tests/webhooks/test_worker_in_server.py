"""`make run` needs no second process: on the embedded database the server runs the worker
itself (CRM_RUN_WORKER=auto); `on` and `off` decide it anywhere."""

import dataclasses

import httpx
import pytest

from settings import Settings, SettingsError, WorkerSettings, load_settings
from tests.conftest import GraphQLClient, bearer, start_server
from tests.webhooks.conftest import (
    Receiver,
    create_lead,
    create_webhook,
    settled,
    webhook_settings,
)


@pytest.mark.parametrize(
    ("setting", "embedded", "runs"),
    [
        ("auto", True, True),
        ("auto", False, False),
        ("on", False, True),
        ("off", True, False),
    ],
)
def test_who_runs_the_worker(setting: str, embedded: bool, runs: bool) -> None:
    worker = WorkerSettings(run_in_server=setting)
    assert worker.runs_in_server(embedded_database=embedded) is runs


def test_the_settings_are_read_and_checked() -> None:
    read = load_settings(
        {
            "CRM_RUN_WORKER": "On",
            "CRM_WORKER_CONCURRENCY": "4",
            "CRM_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
            "CRM_WEBHOOK_MAX_ATTEMPTS": "3",
            "CRM_WEBHOOK_DISABLE_AFTER": "2",
        }
    )
    assert (read.worker.run_in_server, read.worker.concurrency) == ("on", 4)
    assert (read.webhooks.retry_base_seconds, read.webhooks.max_attempts) == (0.5, 3)
    assert read.webhooks.disable_after_failures == 2
    for bad in ({"CRM_RUN_WORKER": "sometimes"}, {"CRM_WEBHOOK_MAX_ATTEMPTS": "0"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            load_settings(bad)


async def test_a_server_that_runs_the_worker_delivers_by_itself(
    settings: Settings, migrated: str, admin_key: str, receiver: Receiver
) -> None:
    # given a server that runs the worker in its own process
    served = dataclasses.replace(
        webhook_settings(settings),
        worker=dataclasses.replace(webhook_settings(settings).worker, run_in_server="on"),
    )
    server = await start_server(served, migrated)
    try:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, headers=bearer(admin_key)
        ) as http:
            gql = GraphQLClient(http)
            # when an event happens for an endpoint
            await create_webhook(gql, receiver.endpoint())
            await create_lead(gql)
            # then it is delivered with no other worker running
            [delivery] = await settled(gql, 1)
    finally:
        await server.stop()
    assert delivery["status"] == "SUCCEEDED"
    assert len(receiver.received) == 1
