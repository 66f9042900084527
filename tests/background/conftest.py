"""What the background scoring tests share: the job queue as the owner sees it, the app's
database as the worker uses it, a worker of their own, and the realtime test client."""

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database
from services.background_scoring import BackgroundScoring
from services.scorer_choice import ScorerSelection
from settings import Settings
from tests.realtime.conftest import connect_to, connect_ws  # noqa: F401 - fixtures
from tests.webhooks.conftest import webhook_settings
from tests.workers import worker_running
from worker.runner import background_scoring, job_app
from worker.tasks import RESCORE_TASK


@dataclass(frozen=True)
class Job:
    queue_name: str
    priority: int
    status: str
    queueing_lock: str
    tenant_id: int
    lead_id: int


async def rescore_jobs(owner: Database) -> list[Job]:
    """The `ai.rescore_lead` jobs in the queue, oldest first."""
    async with owner.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT queue_name, priority, status, queueing_lock, args "
                "FROM procrastinate.procrastinate_jobs WHERE task_name = :task ORDER BY id"
            ),
            {"task": RESCORE_TASK},
        )
        return [
            Job(
                row.queue_name,
                row.priority,
                str(row.status),
                row.queueing_lock,
                row.args["tenant_id"],
                row.args["lead_id"],
            )
            for row in rows
        ]


def with_ai(settings: Settings, **ai: Any) -> Settings:
    """The tests' settings with these AI settings changed."""
    return dataclasses.replace(settings, ai=dataclasses.replace(settings.ai, **ai))


MakeScoring = Callable[..., BackgroundScoring]


@pytest.fixture
async def scoring(
    settings: Settings, owner: Database, app_db: Database
) -> AsyncIterator[MakeScoring]:
    """`scoring(rescore_after_hours=0, ...)`: the worker's BackgroundScoring, with these AI
    settings."""
    made: list[ScorerSelection] = []

    def make(**ai: Any) -> BackgroundScoring:
        changed = with_ai(settings, **ai)
        scorers = ScorerSelection(changed.ai, app_db)
        made.append(scorers)
        return background_scoring(changed, owner=owner, app_db=app_db, scorers=scorers)

    yield make
    for scorers in made:
        await scorers.aclose()


RunWorker = Callable[..., contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture
def run_worker(settings: Settings, migrated: str) -> RunWorker:
    """`async with run_worker(model=..., ...)`: a worker in this process for the block,
    with the webhook tests' fast settings and these AI settings."""

    def running(**ai: Any) -> contextlib.AbstractAsyncContextManager[None]:
        return worker_running(with_ai(webhook_settings(settings), **ai), migrated)

    return running


async def age(owner: Database, table: str, ids: list[int], *, hours: float) -> None:
    """Move rows' `created_at` back by `hours` (and the earlier ids a second more each: ids
    and times grow together in real life)."""
    async with owner.transaction() as conn:
        for extra_seconds, row_id in enumerate(sorted(ids, reverse=True)):
            await conn.execute(
                text(
                    f"UPDATE {table} SET created_at = now() "
                    "- make_interval(hours => :hours, secs => :extra) WHERE id = :id"
                ),
                {"hours": hours, "extra": extra_seconds, "id": row_id},
            )


def crons_of(database_url: str, task_name: str) -> list[str]:
    """The schedules on which the worker's app defers a task."""
    app = job_app(database_url)
    return [
        periodic.cron
        for periodic in app.periodic_registry.periodic_tasks.values()
        if periodic.task.name == task_name
    ]
