"""Running the worker: `python -m server worker`, or inside the server (CRM_RUN_WORKER).

A worker is a procrastinate worker on the owner's login (procrastinate's tables belong to
the owner, in the schema `procrastinate`), plus the app's own login for the jobs' reads
and writes of tenant data (Row Level Security applies, per job's tenant), plus one HTTP
sender and the scorers of background scoring (services/background_scoring.py). Any
number of workers (and servers) share one database: each job is fetched by one worker at
a time.

A worker that dies mid-job (killed, its machine gone) leaves the job "doing". Every
worker heartbeats (CRM_WORKER_HEARTBEAT_SECONDS) and, as often, looks for jobs of
workers silent for three heartbeats, and runs them again; their attempts are guarded
(services/webhooks/attempts.py), so a job run twice does no harm.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

import procrastinate
from procrastinate import exceptions as queue_errors

from db.database import Database, app_login_url, open_database
from services.background_scoring import BackgroundScoring
from services.scorer_choice import ScorerSelection, ScorerSource
from services.webhooks.attempts import Deliverer
from services.webhooks.schedule import RetrySchedule
from services.webhooks.sender import Sender
from settings import Settings
from worker import tasks
from worker.queue_schema import QUEUE_SCHEMA, check_queue

log = logging.getLogger(__name__)

STALLED_AFTER_HEARTBEATS = 3
_POOL_SIZE = 6


def libpq_url(database_url: str) -> str:
    """DATABASE_URL as psycopg (libpq) takes it: postgresql://, no driver name."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    return database_url


def job_app(database_url: str) -> procrastinate.App:
    """A procrastinate app on the owner's login, working in the queue schema."""
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url),
        kwargs={"options": f"-c search_path={QUEUE_SCHEMA}"},
        min_size=1,
        max_size=_POOL_SIZE,
    )
    app = procrastinate.App(connector=connector)
    tasks.register(app)
    return app


class Worker:
    """One worker process's (or one server's) share of the jobs."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url  # the owner's

    async def run(self, *, install_signal_handlers: bool = False) -> None:
        """Work until cancelled (or, with signal handlers, until SIGINT/SIGTERM). Jobs
        under way get CRM_WEBHOOK_TIMEOUT_SECONDS and a little more to finish."""
        settings = self.settings
        owner = open_database(self.database_url, pool_size=2)
        app_db = open_database(
            settings.app_database_url or app_login_url(self.database_url),
            pool_size=min(settings.worker.concurrency, 20),
            app_role=True,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        sender = Sender(
            timeout_seconds=settings.webhooks.timeout_seconds,
            allow_private=settings.webhooks.allow_private_addresses,
        )
        # The one place the worker's scorers are made: each tenant's choice, as the server's.
        scorers = ScorerSelection(settings.ai, app_db)
        try:
            async with owner.engine.connect() as conn:
                await conn.run_sync(check_queue)
            scoring = background_scoring(settings, owner=owner, app_db=app_db, scorers=scorers)
            await self._work(owner, app_db, sender, scoring, install_signal_handlers)
        finally:
            await scorers.aclose()
            await sender.aclose()
            await app_db.dispose()
            await owner.dispose()

    async def _work(
        self,
        owner: Database,
        app_db: Database,
        sender: Sender,
        scoring: BackgroundScoring,
        install_signal_handlers: bool,
    ) -> None:
        settings = self.settings
        heartbeat = settings.worker.heartbeat_seconds
        services = tasks.JobServices(
            deliverer=Deliverer(
                db=app_db,
                sender=sender,
                schedule=RetrySchedule(
                    base_seconds=settings.webhooks.retry_base_seconds,
                    max_attempts=settings.webhooks.max_attempts,
                ),
                disable_after_failures=settings.webhooks.disable_after_failures,
            ),
            owner=owner,
            keep_events=timedelta(days=settings.event_retention_days),
            scoring=scoring,
            learned_min_outcomes=settings.ai.learned_min_outcomes,
        )
        app = job_app(self.database_url)
        async with app.open_async():
            recovery = asyncio.create_task(
                _run_stalled_jobs_again(
                    app, every=heartbeat, silent_for=heartbeat * STALLED_AFTER_HEARTBEATS
                )
            )
            try:
                await app.run_worker_async(
                    name="crm-worker",
                    concurrency=settings.worker.concurrency,
                    install_signal_handlers=install_signal_handlers,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=heartbeat * STALLED_AFTER_HEARTBEATS,
                    # Retries come due without a notification: poll about as often as the
                    # shortest wait of the retry schedule (at least every 5 s).
                    fetch_job_polling_interval=min(
                        5.0, max(0.05, settings.webhooks.retry_base_seconds / 2)
                    ),
                    shutdown_graceful_timeout=settings.webhooks.timeout_seconds + 5,
                    delete_jobs="successful",
                    additional_context={"jobs": services},
                )
            finally:
                recovery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recovery


def background_scoring(
    settings: Settings, *, owner: Database, app_db: Database, scorers: ScorerSource
) -> BackgroundScoring:
    """The scoring jobs' settings: analyzeLead's cache and single flight, and the sweep's."""
    ai = settings.ai
    return BackgroundScoring(
        db=app_db,
        owner=owner,
        scorers=scorers,
        cache_ttl=timedelta(seconds=ai.cache_ttl_seconds),
        # As long as an analyzeLead request waits for another's (resolvers/context.py).
        wait_for_other=timedelta(seconds=ai.longest_call_seconds + 5),
        stale_after=timedelta(hours=ai.rescore_after_hours) if ai.rescore_after_hours else None,
        sweep_limit=ai.rescore_sweep_limit,
    )


async def _run_stalled_jobs_again(
    app: procrastinate.App, *, every: float, silent_for: float
) -> None:
    """Put back in the queue the jobs of workers that stopped heartbeating."""
    while True:
        await asyncio.sleep(every)
        try:
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=silent_for)
            for job in stalled:
                with contextlib.suppress(queue_errors.ConnectorException):
                    # Another worker may have put it back first.
                    await app.job_manager.retry_job(job)
                    log.warning("job %s of a silent worker is queued again", job.id)
        except Exception:
            log.exception("could not look for stalled jobs; trying again later")


class InProcessWorker:
    """The worker as a task of the server, started and stopped with the app, when
    CRM_RUN_WORKER says so (on; or auto, the default, on the embedded database only:
    `make run` then needs no second process). Otherwise start and stop do nothing."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.enabled = settings.worker.runs_in_server(
            embedded_database=settings.uses_embedded_database
        )
        self._worker = Worker(settings, database_url)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._run(), name="crm-worker")

    async def _run(self) -> None:
        try:
            await self._worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the in-process worker stopped")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
