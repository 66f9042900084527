"""`python -m server` in processes of their own, for tests that need more than the
in-process live server: a second server, a worker, or a client that blocks."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from settings import PROJECT_ROOT


def service_environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment minus every service setting (so: the heuristic AI, no
    JWT), on `database_url`, quiet, plus `settings` (CRM_* names)."""
    own = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "OPENAI_"))}
    return {**own, "DATABASE_URL": database_url, "CRM_LOG_LEVEL": "WARNING", **settings}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_process(database_url: str, log: Path, **settings: str) -> Iterator[str]:
    """`python -m server` on a free loopback port, healthy; its base URL. Stopped at the
    end as Ctrl-C would stop it. Its output goes to `log`."""
    port = free_port()
    env = service_environment(database_url, HOST="127.0.0.1", PORT=str(port), **settings)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _until_healthy(url, process, log)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy within 60 s")
