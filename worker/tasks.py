"""The worker's jobs: attempt a webhook delivery; every hour, prune the event journal;
analyse a lead again, and every ten minutes queue the leads whose analysis is stale;
every night, train the learned scorers that have new outcomes to learn from.

Jobs find what they need (databases, the HTTP sender, settings) in the job context's
`additional_context["jobs"]`, put there by the worker that runs them (worker/runner.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import procrastinate
from procrastinate.job_context import JobContext

from db.database import Database
from services import background_scoring, retention, scorer_training
from services.webhooks import attempts, deliveries

# Migration 0009's crm_defer_webhook_attempts names this task and queue in SQL.
DELIVERY_TASK = "webhooks.deliver"
DELIVERY_QUEUE = "webhooks"
RETENTION_TASK = "journal.prune"
RETENTION_QUEUE = "maintenance"
RETENTION_CRON = "17 * * * *"  # every hour, at minute 17
# Migration 0014's crm_defer_rescoring names this task and queue in SQL.
RESCORE_TASK = "ai.rescore_lead"
RESCORE_QUEUE = "ai"
STALE_SWEEP_TASK = "ai.rescore_stale"
STALE_SWEEP_CRON = "*/10 * * * *"
TRAINING_TASK = "ai.train_scorers"
TRAINING_CRON = "41 3 * * *"  # every night at 03:41 UTC

# An attempt's own failures (the endpoint's answer) never raise: they are written to
# the delivery. What raises is unexpected (the database away, a worker stopped mid-job),
# and the job is then run again, a little later each time.
UNEXPECTED_FAILURES = procrastinate.RetryStrategy(max_attempts=10, wait=2, exponential_wait=2)


@dataclass(frozen=True, slots=True)
class JobServices:
    deliverer: attempts.Deliverer
    owner: Database  # retention deletes, which the app role may not
    keep_events: timedelta
    scoring: background_scoring.BackgroundScoring
    learned_min_outcomes: int


def register(app: procrastinate.App) -> None:
    """Declare the jobs on a procrastinate app."""
    app.task(
        name=DELIVERY_TASK,
        queue=DELIVERY_QUEUE,
        pass_context=True,
        retry=UNEXPECTED_FAILURES,
    )(deliver_webhook)
    prune = app.task(name=RETENTION_TASK, queue=RETENTION_QUEUE, pass_context=True)(prune_journal)
    app.periodic(cron=RETENTION_CRON)(prune)
    # No retries: a scoring that failed is the next trigger's or sweep's to do again (a
    # retried job would also meet the lead's newer waiting job on the queueing lock).
    app.task(name=RESCORE_TASK, queue=RESCORE_QUEUE, pass_context=True)(rescore_lead)
    sweep = app.task(name=STALE_SWEEP_TASK, queue=RESCORE_QUEUE, pass_context=True)(rescore_stale)
    app.periodic(cron=STALE_SWEEP_CRON)(sweep)
    train = app.task(name=TRAINING_TASK, queue=RESCORE_QUEUE, pass_context=True)(train_scorers)
    app.periodic(cron=TRAINING_CRON)(train)


async def deliver_webhook(
    context: JobContext, *, tenant_id: int, delivery_id: int, attempt: int
) -> None:
    """One attempt of one delivery (services/webhooks/attempts.py)."""
    await attempts.attempt(
        _services(context).deliverer, tenant_id=tenant_id, delivery_id=delivery_id, number=attempt
    )


async def prune_journal(context: JobContext, timestamp: int) -> str:
    """Events older than CRM_EVENT_RETENTION_DAYS go, and finished deliveries with them;
    and pending deliveries that lost their job get one again."""
    found = _services(context)
    events = await retention.prune_events(found.owner, keep=found.keep_events)
    finished = await deliveries.prune(found.owner, keep=found.keep_events)
    requeued = await deliveries.requeue_stranded(found.owner, task_name=DELIVERY_TASK)
    return (
        f"removed {events} events and {finished} finished webhook deliveries; "
        f"{requeued} stranded deliveries queued again"
    )


async def rescore_lead(context: JobContext, *, tenant_id: int, lead_id: int) -> str:
    """Analyse one lead again, the way analyzeLead does (services/background_scoring.py)."""
    return await background_scoring.rescore_lead(
        _services(context).scoring, tenant_id=tenant_id, lead_id=lead_id
    )


async def rescore_stale(context: JobContext, timestamp: int) -> str:
    """Queue each tenant's active leads whose latest analysis (or, never analysed, whose
    creation) is older than CRM_AI_RESCORE_AFTER_HOURS, CRM_AI_RESCORE_SWEEP_LIMIT at most."""
    now = datetime.fromtimestamp(timestamp, UTC)
    queued = await background_scoring.queue_stale_leads(_services(context).scoring, now=now)
    return f"{queued} stale leads queued for scoring"


async def train_scorers(context: JobContext, timestamp: int) -> str:
    """A new learned model for each tenant using one that has new closed leads."""
    found = _services(context)
    trained = await scorer_training.train_where_due(
        owner=found.owner, app_db=found.scoring.db, min_outcomes=found.learned_min_outcomes
    )
    return f"trained {len(trained)} learned scorers" + "".join(f"; {t}" for t in trained)


def _services(context: JobContext) -> JobServices:
    return cast(JobServices, context.additional_context["jobs"])
