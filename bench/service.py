"""A real `python -m server` for a benchmark: its own database on the embedded
PostgreSQL (or on BENCH_DATABASE_URL's server), an admin key, and a way to read the
server process's memory."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from db.database import create_engine
from db.embedded import start_embedded_postgres
from settings import PROJECT_ROOT


@dataclass(frozen=True)
class Service:
    url: str  # http://127.0.0.1:<port>
    database_url: str
    key: str
    pid: int

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Floor:
    url: str
    pid: int

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)


def rss_bytes(pid: int) -> int:
    """A process's resident memory now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def server_url() -> str:
    """The PostgreSQL server benchmarks make their databases on."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        return given
    return start_embedded_postgres(PROJECT_ROOT / ".data", "crm_bench_root")


def _on_server(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE, in autocommit on the server's `postgres` database."""

    async def run() -> None:
        admin_url = make_url(url).set(database="postgres").render_as_string(hide_password=False)
        engine = create_engine(admin_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def kept_database(name: str) -> str:
    """A database kept between runs (made if missing); its URL."""
    url = server_url()
    try:
        _on_server(url, f'CREATE DATABASE "{name}"')
    except ProgrammingError as error:
        if "already exists" not in str(error):
            raise
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """A new empty database for the run, dropped afterwards."""
    url = server_url()
    _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _on_server(url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(database_url: str, port: int, extra: dict[str, str]) -> dict[str, str]:
    own = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "OPENAI_"))}
    return {
        **own,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "CRM_LOG_LEVEL": "WARNING",
        "CRM_RATE_LIMIT_PER_MINUTE": "0",
        **extra,
    }


@contextmanager
def running_service(database_url: str, **settings: str) -> Iterator[Service]:
    """`python -m server` on the database, with CRM_* `settings`; stopped afterwards."""
    port = free_port()
    env = _environment(database_url, port, settings)
    key = subprocess.run(
        [sys.executable, "-m", "server", "create-admin", "bench@crm.localhost"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    process = subprocess.Popen(
        [sys.executable, "-m", "server"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until_healthy(url, process)
        yield Service(url=url, database_url=database_url, key=key, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in 60 s")


@contextmanager
def running_floor() -> Iterator[Floor]:
    """bench/raw_broadcast.py in a process of its own."""
    with running_module("bench.raw_broadcast") as floor:
        yield floor


@contextmanager
def running_module(module: str, *arguments: str) -> Iterator[Floor]:
    """`python -m module PORT *arguments`, a floor of ours, until the block ends."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own module, a port and its arguments
        [sys.executable, "-m", module, str(port), *arguments],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until_healthy(url, process)
        yield Floor(url=url, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
