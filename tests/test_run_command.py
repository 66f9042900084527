"""`python -m server`, what `make run` starts: set-up, serving, and a clean Ctrl-C."""

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from settings import PROJECT_ROOT
from tests.databases import throwaway_database

PIPELINE = "{ pipeline { leadsByStage { stage count } salesByStage { stage count } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


API_KEY = re.compile(r"crm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@dataclass
class Running:
    url: str
    process: asyncio.subprocess.Process
    printed: str  # what it printed before it served


@asynccontextmanager
async def running_server(env: dict[str, str]) -> AsyncIterator[Running]:
    """Start `python -m server` and wait until /healthz answers; SIGINT it afterwards."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        cwd=PROJECT_ROOT,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        printed = await _printed_until_serving(process)
        await _until_healthy(url, process)
        yield Running(url, process, printed)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _printed_until_serving(process: asyncio.subprocess.Process) -> str:
    """stdout up to the GraphiQL line, which `serve` prints just before uvicorn starts."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("GraphiQL:"):
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if not line:
            break
        lines.append(line.decode())
    return "".join(lines)


async def _until_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                assert process.stderr is not None
                raise AssertionError((await process.stderr.read()).decode()[-3000:])
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not become healthy within 60 s")


async def _stop_with_ctrl_c(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    return await asyncio.wait_for(process.wait(), timeout=30)


async def _lead_count(url: str, key: str) -> int:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
        response = await client.post(f"{url}/graphql", json={"query": PIPELINE})
    counts = response.json()["data"]["pipeline"]["leadsByStage"]
    return sum(stage["count"] for stage in counts)


def _environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CRM_DATA_DIR"}}
    return {**env, **overrides}


async def test_the_embedded_default_sets_up_serves_demo_data_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    # given no DATABASE_URL and an empty data directory
    data_dir = tmp_path / "data"
    async with running_server(_environment(CRM_DATA_DIR=str(data_dir))) as server:
        # when it is up, then it has printed a development admin key, once
        keys = API_KEY.findall(server.printed)
        assert keys, server.printed
        # and GraphiQL is served, and the demo pipeline is loaded
        async with httpx.AsyncClient() as client:
            page = await client.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        assert 40 <= await _lead_count(server.url, keys[0]) <= 60
        # and a second company made with create-admin starts empty, apart from the demo
        env = _environment(CRM_DATA_DIR=str(data_dir))
        acme = await _create_admin(env, "owner@acme.example", "--tenant", "Acme")
        assert await _lead_count(server.url, acme) == 0
        # when Ctrl-C is pressed
        exit_code = await _stop_with_ctrl_c(server.process)
    # then the server exits cleanly and the embedded PostgreSQL has stopped too
    assert exit_code == 0
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


async def test_with_database_url_it_migrates_but_loads_no_demo_data(database_url: str) -> None:
    # given DATABASE_URL pointing at an empty database
    async with throwaway_database(database_url, f"crm_run_test_{os.getpid()}") as empty_url:
        env = _environment(DATABASE_URL=empty_url)
        async with running_server(env) as server:
            # when it is up, then it printed no key and added no demo lead
            assert not API_KEY.findall(server.printed)
            # and the first admin of such a database comes from `create-admin`
            key = await _create_admin(env, "owner@example.com")
            assert await _lead_count(server.url, key) == 0
            assert await _stop_with_ctrl_c(server.process) == 0


async def _create_admin(env: dict[str, str], email: str, *options: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "create-admin",
        email,
        *options,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    [key] = API_KEY.findall(stdout.decode())
    assert isinstance(key, str)
    return key


async def test_a_bad_setting_stops_the_start_with_a_message_naming_it() -> None:
    # given a port that is not a number
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        cwd=PROJECT_ROOT,
        env=_environment(PORT="eighty"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    # when it starts; then it stops at once, saying which variable is wrong, no traceback
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode != 0
    assert "Configuration error: PORT" in stderr.decode()
    assert "Traceback" not in stderr.decode()
