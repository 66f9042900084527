"""`python -m server train-scorer` and `python -m server scorer-report`: the learned
scorer's training and the scorer report, for one tenant, from a terminal or a cron job.

Both act for the named tenant as a request would (cli/tenancy.py).
"""

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from typing import Any

from cli.tenancy import UnknownTenant, acting_for_tenant
from domain.errors import DomainError
from services.scorer_report import ScorerQuality, scorer_report
from services.scorer_training import train_scorer
from settings import Settings

CLI_ACTOR = "cli"
TRAIN, REPORT = "train-scorer", "scorer-report"
COMMANDS = (TRAIN, REPORT)
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def add_parsers(commands: Any) -> None:
    """`train-scorer` and `scorer-report`, on server.py's argparse sub-parsers."""
    train = commands.add_parser(TRAIN, help="fit the next version of a tenant's learned scorer")
    train.add_argument("--tenant", required=True, help="the tenant (company) by name")
    report = commands.add_parser(
        REPORT, help="print how well each scorer foretold a tenant's outcomes"
    )
    report.add_argument("--tenant", required=True, help="the tenant (company) by name")
    report.add_argument(
        "--all-outcomes",
        action="store_true",
        help="judge on every outcome, not only the held-out split",
    )
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(arguments: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Run the command; its exit status: 1 when refused (too few outcomes), 2 for a
    usage error (no such tenant)."""
    try:
        if arguments.command == TRAIN:
            printed = asyncio.run(train(database_url, settings, arguments.tenant))
        else:
            printed = asyncio.run(
                report(
                    database_url,
                    settings,
                    arguments.tenant,
                    held_out_only=not arguments.all_outcomes,
                    as_json=arguments.json,
                )
            )
    except DomainError as refusal:
        print(f"{arguments.command}: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    except UnknownTenant as error:
        print(f"{arguments.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(printed, flush=True)
    return EXIT_OK


async def train(database_url: str, settings: Settings, tenant: str) -> str:
    """Train the tenant's next model; a summary line, or DomainError when declined."""
    async with acting_for_tenant(database_url, settings, tenant, actor=CLI_ACTOR) as (db, scope):
        model = await train_scorer(
            db=db, scope=scope, min_outcomes=settings.ai.learned_min_outcomes
        )
    figures = model.held_out or {}
    learned, heuristic = figures.get("learned"), figures.get("heuristic")
    comparison = (
        f"held-out ROC AUC {learned['roc_auc']:.3f} (heuristic {heuristic['roc_auc']:.3f})"
        if learned and heuristic
        else "too few held-out outcomes to judge it yet"
    )
    return (
        f"Trained learned scorer v{model.version} on {model.outcomes} closed leads "
        f"({model.wins} won); {comparison}."
    )


async def report(
    database_url: str, settings: Settings, tenant: str, *, held_out_only: bool, as_json: bool
) -> str:
    async with acting_for_tenant(database_url, settings, tenant, actor=CLI_ACTOR) as (db, scope):
        rows = await scorer_report(
            db=db,
            scope=scope,
            gate_threshold=settings.transfer_min_score,
            held_out_only=held_out_only,
        )
    if as_json:
        return json.dumps([_json(row) for row in rows], indent=2)
    return format_report(rows, held_out_only=held_out_only)


def format_report(rows: list[ScorerQuality], *, held_out_only: bool) -> str:
    split = "held-out outcomes" if held_out_only else "all outcomes"
    if not rows:
        return f"No scored outcomes yet ({split})."
    lines = [
        f"Scorer report ({split})",
        f"{'scorer':<34} {'basis':<9} {'n':>6} {'wins':>5} {'AUC':>6} {'Brier':>6} "
        f"{'logloss':>7} {'passed→lost':>12} {'held→won':>9}",
    ]
    for row in rows:
        auc = "-" if row.roc_auc is None else f"{row.roc_auc:.3f}"
        lines.append(
            f"{row.scorer[:34]:<34} {row.basis.value:<9} {row.outcomes:>6} {row.wins:>5} "
            f"{auc:>6} {row.brier_score:>6.3f} {row.log_loss:>7.3f} "
            f"{_rate(row.gate.passed_then_lost_rate):>12} {_rate(row.gate.held_then_won_rate):>9}"
        )
    lines.append("")
    lines.append("Calibration (predicted mean score → actual win rate, count):")
    for row in rows:
        bands = "  ".join(
            f"{band.low:.1f}-{band.high:.1f}: "
            + (
                "—"
                if band.count == 0
                else f"{band.mean_score:.2f}→{band.win_rate:.2f} ({band.count})"
            )
            for band in row.calibration
        )
        lines.append(f"  {row.scorer} [{row.basis.value}]  {bands}")
    return "\n".join(lines)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _json(row: ScorerQuality) -> dict[str, object]:
    data = asdict(row)
    data["basis"] = row.basis.value
    return data
