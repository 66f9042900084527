"""`python -m server import-leads`: once as a real process against the test database, and
its other cases through the same entry point in this process (cli/imports.py), which is
what the process runs after parsing its arguments."""

import asyncio
import json
import sys
from pathlib import Path

import pytest

from cli import imports as import_cli
from server import parse_arguments
from settings import PROJECT_ROOT, Settings
from tests.conftest import GraphQLClient
from tests.imports.operations import table_counts
from tests.processes import service_environment

GOOD = "name,source,email\nAda,partner,ada@example.com\nBob,website,\n"
MIXED = "Full name,source\nAda,partner\nEve,nowhere\n"


async def _run_process(database_url: str, *arguments: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "import-leads",
        *arguments,
        cwd=PROJECT_ROOT,
        env=service_environment(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _run(
    database_url: str, settings: Settings, capsys: pytest.CaptureFixture[str], *arguments: str
) -> tuple[int, str, str]:
    """The command's work in a thread of this process (it runs its own event loop)."""
    parsed = parse_arguments(["import-leads", *arguments])
    status = await asyncio.to_thread(import_cli.run, parsed, settings, database_url)
    out, err = capsys.readouterr()
    return status, out, err


async def test_the_command_imports_a_file_and_prints_a_summary(
    migrated: str, tmp_path: Path, gql: GraphQLClient
) -> None:
    # given a good file
    path = tmp_path / "leads.csv"
    path.write_text(GOOD)
    # when it is imported from the shell
    status, out, err = await _run_process(migrated, str(path), "--tenant", "Default")
    # then it says what it did, exits 0 (no invalid rows), and the leads are the tenant's
    assert status == 0, (out, err)
    assert "created" in out
    leads = await gql.data("{ leads(first: 5) { edges { node { name } } } }")
    assert len(leads["leads"]["edges"]) == 2


async def test_a_dry_run_writes_nothing_and_a_second_run_changes_nothing(
    migrated: str, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(GOOD)
    dry = await _run(migrated, settings, capsys, str(path), "--tenant", "Default", "--dry-run")
    assert dry[0] == 0
    assert "Dry run" in dry[1]
    assert (await table_counts(migrated, "leads"))["leads"] == 0
    real = await _run(migrated, settings, capsys, str(path), "--tenant", "Default")
    again = await _run(migrated, settings, capsys, str(path), "--tenant", "Default", "--json")
    assert real[0] == again[0] == 0
    assert (await table_counts(migrated, "leads"))["leads"] == 2
    report = json.loads(again[1])
    assert (report["created"], report["unchanged"], report["applied"]) == (0, 2, True)


async def test_invalid_rows_exit_1_and_usage_errors_exit_2(
    migrated: str, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED)

    # a file with an invalid row, its name column mapped: 1, the row named
    status, out, _ = await _run(
        migrated, settings, capsys, str(path), "--tenant", "Default", "--map", "name=Full name"
    )
    assert status == 1, out
    assert "line 3: invalid" in out
    assert (await table_counts(migrated, "leads"))["leads"] == 1

    # usage errors: 2
    for arguments in (
        [str(path), "--tenant", "No Such Tenant"],
        [str(tmp_path / "missing.csv"), "--tenant", "Default"],
        [str(path), "--tenant", "Default", "--map", "colour=Full name"],
    ):
        status, _, err = await _run(migrated, settings, capsys, *arguments)
        assert status == 2, (arguments, err)
        assert err, arguments
    # --tenant missing: argparse refuses with 2 before anything runs
    with pytest.raises(SystemExit) as refused:
        parse_arguments(["import-leads", str(path)])
    assert refused.value.code == 2
