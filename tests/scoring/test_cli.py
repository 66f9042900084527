"""`python -m server train-scorer` and `scorer-report`: the commands' work in this process
(cli/scoring.py), and once as a real process, as a person would run it."""

import asyncio
import json
import sys

import pytest

from cli import scoring
from server import parse_arguments
from settings import PROJECT_ROOT, Settings
from tests.api.operations import analyze, change_stage, ok
from tests.conftest import LEARNED_MIN_OUTCOMES, GraphQLClient
from tests.factories import closed_history, lead_at_stage
from tests.processes import service_environment


async def test_the_command_runs_as_a_process_and_says_why_it_declines(migrated: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "train-scorer",
        "--tenant",
        "Default",
        cwd=PROJECT_ROOT,
        env=service_environment(migrated, CRM_AI_LEARNED_MIN_OUTCOMES=str(LEARNED_MIN_OUTCOMES)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1
    assert "train-scorer: The learned scorer needs at least 10 closed leads" in err.decode()


async def test_training_from_the_command_line(
    gql: GraphQLClient, migrated: str, settings: Settings
) -> None:
    await closed_history(gql, wins=5, losses=5)
    printed = await scoring.train(migrated, settings, "Default")
    assert printed.startswith("Trained learned scorer v1 on 10 closed leads (5 won)")


async def test_the_report_prints_a_table_or_json(
    gql: GraphQLClient, migrated: str, settings: Settings
) -> None:
    # given imported history (replayed only) and one lead analysed, then lost (recorded too)
    await closed_history(gql, wins=2, losses=2)
    lead = await lead_at_stage(gql, "CONTACTED")
    ok(await analyze(gql, lead["id"]))
    ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    table = await scoring.report(migrated, settings, "Default", held_out_only=False, as_json=False)
    assert table.startswith("Scorer report (all outcomes)")
    assert "heuristic" in table
    assert "Calibration" in table
    rows = json.loads(
        await scoring.report(migrated, settings, "Default", held_out_only=False, as_json=True)
    )
    assert {(row["scorer"], row["basis"]) for row in rows} == {
        ("heuristic", "recorded"),
        ("heuristic", "replayed"),
    }
    recorded = next(row for row in rows if row["basis"] == "recorded")
    assert (recorded["outcomes"], recorded["wins"]) == (1, 0)
    assert len(recorded["calibration"]) == 5


async def test_an_unknown_tenant_is_a_usage_error_naming_it(
    migrated: str, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = parse_arguments(["scorer-report", "--tenant", "Nobody Inc"])
    status = await asyncio.to_thread(scoring.run, arguments, settings, migrated)
    assert status == 2
    assert "scorer-report: there is no tenant named 'Nobody Inc'" in capsys.readouterr().err
