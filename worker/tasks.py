"""The worker's jobs: attempt a webhook delivery; every hour, prune the event journal.

Jobs find what they need (databases, the HTTP sender, settings) in the job context's
`additional_context["jobs"]`, put there by the worker that runs them (worker/runner.py).
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import procrastinate
from procrastinate.job_context import JobContext

from db.database import Database
from services import retention
from services.webhooks import attempts, deliveries

# Migration 0009's crm_defer_webhook_attempts names this task and queue in SQL.
DELIVERY_TASK = "webhooks.deliver"
DELIVERY_QUEUE = "webhooks"
RETENTION_TASK = "journal.prune"
RETENTION_QUEUE = "maintenance"
RETENTION_CRON = "17 * * * *"  # every hour, at minute 17

# An attempt's own failures (the endpoint's answer) never raise: they are written to
# the delivery. What raises is unexpected (the database away, a worker stopped mid-job),
# and the job is then run again, a little later each time.
UNEXPECTED_FAILURES = procrastinate.RetryStrategy(max_attempts=10, wait=2, exponential_wait=2)


@dataclass(frozen=True, slots=True)
class JobServices:
    deliverer: attempts.Deliverer
    owner: Database  # retention deletes, which the app role may not
    keep_events: timedelta


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


def _services(context: JobContext) -> JobServices:
    return cast(JobServices, context.additional_context["jobs"])
