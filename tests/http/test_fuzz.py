"""Generated operations against the running service: no 5xx, nothing unmasked, no traces.

schemathesis (through hypothesis-graphql) writes valid queries and mutations from the
committed `schema.graphql` (a test keeps it equal to the served schema), and each one is
sent with an admin key to `python -m server` in a process of its own, on a throwaway
database: schemathesis calls are synchronous, and the in-process `live_server` runs on
pytest's event loop, which a blocking call from a test would freeze.

The run is derandomized (the same operations every time) and bounded twice: a number of
examples per root field, and a wall-clock budget for the whole module past which the
remaining examples are not sent. Mutations run first, and the ids in their answers are
fed back (schemathesis's resource pool) so later operations also reach existing rows.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.graphql import nodes

from settings import PROJECT_ROOT
from tests.databases import throwaway_database
from tests.processes import server_process, service_environment

EXAMPLES_PER_FIELD = 20
BUDGET_SECONDS = 40.0
# Validation and parse errors carry BAD_REQUEST too (web/documents.py), so an error
# without one of these codes is one the service did not mean to send.
ALLOWED_CODES = frozenset(
    {"BAD_REQUEST", "FORBIDDEN", "UNAUTHENTICATED", "RATE_LIMITED", "TIMEOUT"}
)
GQL_RESPONSE = "application/graphql-response+json"
API_KEY = re.compile(r"crm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")

# Decimal is the one scalar schemathesis has no strategy for; NaN, infinities and huge
# exponents included, as a client may send them.
schemathesis.graphql.scalar("Decimal", st.decimals().map(str).map(nodes.String))

SCHEMA = schemathesis.graphql.from_path(PROJECT_ROOT / "schema.graphql")
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def _operation(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


_ALL = [_operation(result) for result in SCHEMA.get_all_operations()]
OPERATIONS = [op for op in _ALL if op.label.startswith("Mutation.")] + [
    op for op in _ALL if not op.label.startswith("Mutation.")
]
IDS = SCHEMA.create_extra_data_source()
# A CamelCase word ending like an exception class that is not one of the schema's types.
_EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)\b")
_SCHEMA_TYPES = frozenset(SCHEMA.client_schema.type_map)


@dataclass(frozen=True)
class RunningApp:
    graphql_url: str
    session: requests.Session
    log: Path
    budget_ends: float  # time.monotonic() after which no more examples are sent

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _create_admin(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server", "create-admin", "fuzz@example.com"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [key] = API_KEY.findall(done.stdout)
    assert isinstance(key, str)
    return key


@pytest.fixture(scope="module")
async def fuzz_database(database_url: str) -> AsyncIterator[str]:
    async with throwaway_database(database_url, f"crm_fuzz_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def app(fuzz_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """`python -m server` on a free port, an admin key, and a session that sends it."""
    # The fuzzer sends far faster than a person: the limiter would answer most of it.
    unlimited = {"CRM_RATE_LIMIT_PER_MINUTE": "0"}
    key = _create_admin(service_environment(fuzz_database, **unlimited))
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    with server_process(fuzz_database, log, **unlimited) as url, requests.Session() as session:
        session.trust_env = False  # loopback: no proxy
        session.headers.update({"Authorization": f"Bearer {key}", "Accept": GQL_RESPONSE})
        yield RunningApp(f"{url}/graphql", session, log, time.monotonic() + BUDGET_SECONDS)


def violations(status: int, body: bytes) -> list[str]:
    """Every way a response breaks the rules; empty when it keeps them all."""
    if status >= 500:
        return [f"HTTP {status}"]
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ["the body is not JSON"]
    if not isinstance(payload, dict):
        return ["the body is not a JSON object"]
    return [problem for error in payload.get("errors") or () for problem in _error_problems(error)]


def _error_problems(error: Any) -> Iterator[str]:
    if not isinstance(error, dict):
        yield f"an error that is not an object: {error!r}"
        return
    code = (error.get("extensions") or {}).get("code")
    if code == "INTERNAL":
        yield f"an INTERNAL error (the server raised something unexpected): {error}"
    elif code not in ALLOWED_CODES:
        yield f"an error with no known extensions.code: {error}"
    message = str(error.get("message", ""))
    if "Traceback" in message:
        yield f"a traceback in an error message: {message}"
    leaked = set(_EXCEPTION_NAME.findall(message)) - _SCHEMA_TYPES
    if leaked:
        yield f"a Python exception name ({', '.join(sorted(leaked))}) in: {message}"


def _report(label: str, query: str, status: int, body: str, problems: list[str], log: str) -> str:
    return "\n".join(
        [
            f"{label}: a generated operation broke the rules:",
            *(f"  - {problem}" for problem in problems),
            "query:",
            query,
            f"response (HTTP {status}):",
            body[:3000],
            "server log (tail):",
            log,
        ]
    )


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_FIELD,
    derandomize=True,
    database=None,
    deadline=None,
    # Shrinking would replay the failing request many times; the report names the query.
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_generated_operations_get_no_5xx_and_no_unmasked_error(
    operation: Operation, app: RunningApp
) -> None:
    if time.monotonic() > app.budget_ends:
        pytest.skip("the fuzz time budget is spent")
    # given valid operations on one root field, ids from earlier answers among their inputs
    strategy = operation.as_strategy(feedback=FeedbackSources(extra_data_source=IDS))

    @FUZZ_SETTINGS
    @given(case=strategy)
    def send(case: schemathesis.Case[Operation]) -> None:
        if time.monotonic() > app.budget_ends:
            return
        # when each is sent with an admin key
        response = case.call(base_url=app.graphql_url, session=app.session, timeout=15)
        IDS.record_response(operation=operation, response=response, case=case)
        # then the answer is a 2xx/4xx JSON GraphQL response whose errors all carry a
        # client-facing code, with neither a trace nor an exception name in them
        problems = violations(response.status_code, response.content)
        assert not problems, _report(
            operation.label,
            str(case.body),
            response.status_code,
            response.content.decode(errors="replace"),
            problems,
            app.log_tail(),
        )

    send()


def _errors(message: str, code: str | None = None) -> bytes:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return orjson.dumps({"errors": [error]})


@pytest.mark.parametrize(
    ("status", "body", "broken"),
    [
        pytest.param(200, b'{"data": {"me": {"email": "a@b.c"}}}', False, id="data"),
        pytest.param(400, _errors("No such UserError.", "BAD_REQUEST"), False, id="bad request"),
        pytest.param(200, _errors("Admins only.", "FORBIDDEN"), False, id="forbidden"),
        pytest.param(500, b'{"data": null}', True, id="500"),
        pytest.param(502, b"<html>Bad Gateway</html>", True, id="502"),
        pytest.param(200, b"<html>oops</html>", True, id="not JSON"),
        pytest.param(200, b"[1, 2]", True, id="not an object"),
        pytest.param(200, _errors("Internal server error.", "INTERNAL"), True, id="INTERNAL"),
        pytest.param(200, _errors("Cannot return null for Lead.name"), True, id="no code"),
        pytest.param(400, _errors("KeyError: 7", "BAD_REQUEST"), True, id="exception name"),
        pytest.param(400, _errors("Traceback (most recent", "BAD_REQUEST"), True, id="traceback"),
    ],
)
def test_the_rules_catch_what_they_name(status: int, body: bytes, broken: bool) -> None:
    # given a response; when it is judged; then only a rule-breaking one has violations
    assert bool(violations(status, body)) is broken
