"""The nightly training is a job of the worker: when it comes, a running worker trains the
learned scorer of each tenant that uses one and has new closed leads."""

import time

from tests.background.conftest import RunWorker, crons_of
from tests.conftest import GraphQLClient
from tests.factories import closed_history
from tests.webhooks.conftest import eventually
from worker.runner import job_app
from worker.tasks import TRAINING_CRON, TRAINING_TASK

LATEST = "{ scorerSettings { learnedModel { version trainedBy } } }"


def test_training_is_a_periodic_job_every_night(migrated: str) -> None:
    assert crons_of(migrated, TRAINING_TASK) == [TRAINING_CRON] == ["41 3 * * *"]


async def test_the_training_job_trains_a_tenant_using_the_learned_scorer(
    gql: GraphQLClient, migrated: str, run_worker: RunWorker
) -> None:
    # given a tenant using the learned scorer, with enough closed leads and no model yet
    await closed_history(gql, wins=5, losses=5)
    await gql.data("mutation { chooseScorer(input: {scorer: LEARNED}) { userErrors { code } } }")
    # when the job's time comes (deferred as the periodic deferrer does) and a worker runs
    app = job_app(migrated)
    async with app.open_async():
        await app.tasks[TRAINING_TASK].defer_async(timestamp=int(time.time()))
    async with run_worker():

        async def trained() -> bool:
            settings = (await gql.data(LATEST))["scorerSettings"]
            return settings["learnedModel"] is not None

        await eventually(trained, within=30.0)
    # then version 1 exists, trained by the schedule (no person)
    assert (await gql.data(LATEST))["scorerSettings"]["learnedModel"] == {
        "version": 1,
        "trainedBy": None,
    }
