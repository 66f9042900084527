"""What webhook tests share: a receiver on loopback, a server and workers that may post to
it, and the GraphQL operations that manage endpoints.

The receiver is a real HTTP server (uvicorn on a free loopback port, in the tests' event
loop). It records every request, checks its signature against the secrets it was told,
and answers as the test says: fail the first attempts of an event, fail always, or be
slow. The server and workers the tests start allow private addresses (loopback is one);
the session's live server does not, which the URL rules tests rely on.
"""

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.webhooks import signing
from settings import Settings, WebhookSettings, WorkerSettings
from tests.conftest import GraphQLClient, LiveServer, bearer, loopback_socket, start_server
from tests.workers import worker_running

Json = dict[str, Any]

# A retry schedule in fractions of a second, and a quick view of dead workers.
FAST = {"retry_base_seconds": 0.1, "max_attempts": 3, "timeout_seconds": 3.0}
FAST_WORKER = WorkerSettings(run_in_server="off", concurrency=10, heartbeat_seconds=0.5)

WEBHOOK_FIELDS = """
id url description eventTypes enabled disabledAt disabledReason consecutiveFailures
previousSecretExpiresAt createdAt updatedAt
"""
DELIVERY_FIELDS = """
id eventId eventType status attempts nextAttemptAt lastAttemptAt lastResponseStatus
lastError deliveredAt createdAt webhook { id }
"""
ERRORS = "userErrors { code message field }"
CREATE_WEBHOOK = f"""
mutation($input: CreateWebhookInput!) {{
  createWebhook(input: $input) {{ secret webhook {{ {WEBHOOK_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_WEBHOOK = f"""
mutation($input: UpdateWebhookInput!) {{
  updateWebhook(input: $input) {{ webhook {{ {WEBHOOK_FIELDS} }} {ERRORS} }}
}}
"""
DELETE_WEBHOOK = f"""
mutation($input: DeleteWebhookInput!) {{
  deleteWebhook(input: $input) {{ deletedWebhookId {ERRORS} }}
}}
"""
ROTATE_SECRET = f"""
mutation($input: RotateWebhookSecretInput!) {{
  rotateWebhookSecret(input: $input) {{ secret webhook {{ {WEBHOOK_FIELDS} }} {ERRORS} }}
}}
"""
REDELIVER = f"""
mutation($input: RedeliverWebhookEventInput!) {{
  redeliverWebhookEvent(input: $input) {{ delivery {{ {DELIVERY_FIELDS} }} {ERRORS} }}
}}
"""
WEBHOOKS = f"{{ webhooks {{ {WEBHOOK_FIELDS} }} }}"
DELIVERIES = f"""
query($webhookId: ID, $status: WebhookDeliveryStatus, $first: Int, $after: String) {{
  webhookDeliveries(webhookId: $webhookId, status: $status, first: $first, after: $after) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ {DELIVERY_FIELDS} }} }}
  }}
}}
"""
CREATE_LEAD = """
mutation($name: String!) {
  createLead(input: {name: $name, source: PARTNER}) { lead { id } userErrors { code } }
}
"""


# ---------------------------------------------------------------- the receiver


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature verified against one of the receiver's secrets, fresh

    @property
    def event(self) -> Json:
        parsed: Json = orjson.loads(self.body)
        return parsed

    @property
    def event_id(self) -> str:
        return self.headers["crm-event-id"]


@dataclass
class Receiver:
    """Answers 200, except: an event's first `fail_first` attempts, every request while
    `failing`, and each request after `delay` seconds. Paths tell endpoints apart."""

    secrets: list[str] = field(default_factory=list)
    fail_first: int = 0
    failing: bool = False
    failure_status: int = 500
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def endpoint(self, path: str = "/hook") -> str:
        return f"{self.url}{path}"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        header = headers.get("crm-signature", "")
        signed = any(signing.verify(header, body, secret) for secret in self.secrets)
        seen = [r for r in self.received if r.event_id == headers.get("crm-event-id")]
        self.received.append(Received(request.url.path, headers, body, signed))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing or len(seen) < self.fail_first:
            return Response("not now", status_code=self.failure_status)
        return Response("ok")

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def event_ids(self, path: str = "/hook") -> set[str]:
        """Each event once, however often it came: what a deduplicating receiver keeps."""
        return {r.event_id for r in self.at(path)}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    app = Starlette(routes=[Route("/{path:path}", made.handle, methods=["POST"])])
    sock = loopback_socket()
    made.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    yield made
    server.should_exit = True
    await task


# ---------------------------------------------------------------- server and workers


def webhook_settings(settings: Settings, **webhooks: Any) -> Settings:
    """The tests' settings, with private addresses allowed and a fast retry schedule."""
    return dataclasses.replace(
        settings,
        webhooks=dataclasses.replace(
            WebhookSettings(), **{"allow_private_addresses": True, **FAST, **webhooks}
        ),
        worker=FAST_WORKER,
    )


@pytest.fixture(scope="package")
async def webhook_server(settings: Settings, migrated: str) -> AsyncIterator[LiveServer]:
    """The app, on a port of its own, where admins may register loopback endpoints."""
    server = await start_server(webhook_settings(settings), migrated)
    yield server
    await server.stop()


@pytest.fixture
async def admin(webhook_server: LiveServer, admin_key: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(
        base_url=webhook_server.url, timeout=30, headers=bearer(admin_key)
    ) as client:
        yield GraphQLClient(client)


RunWorker = Callable[..., contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture
def run_worker(settings: Settings, migrated: str) -> RunWorker:
    """`async with run_worker(max_attempts=2): ...`: a worker in this process, with the
    fast settings (and these webhook settings) for the block."""

    def running(**webhooks: Any) -> contextlib.AbstractAsyncContextManager[None]:
        return worker_running(webhook_settings(settings, **webhooks), migrated)

    return running


# ---------------------------------------------------------------- helpers


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait until `check()` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.05)


def ok(payload: Json) -> Json:
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def create_webhook(
    gql: GraphQLClient, url: str, event_types: list[str] | None = None, **fields: Any
) -> tuple[Json, str]:
    """A new endpoint for `event_types` (default LEAD_CREATED), and its secret."""
    data = await gql.data(
        CREATE_WEBHOOK,
        {"input": {"url": url, "eventTypes": event_types or ["LEAD_CREATED"], **fields}},
    )
    payload = ok(data["createWebhook"])
    return payload["webhook"], payload["secret"]


async def create_lead(gql: GraphQLClient, name: str = "Ada Lovelace") -> str:
    payload = (await gql.data(CREATE_LEAD, {"name": name}))["createLead"]
    assert payload["userErrors"] == []
    lead_id: str = payload["lead"]["id"]
    return lead_id


async def deliveries(gql: GraphQLClient, **arguments: Any) -> list[Json]:
    connection = (await gql.data(DELIVERIES, {"first": 100, **arguments}))["webhookDeliveries"]
    return [edge["node"] for edge in connection["edges"]]


async def settled(gql: GraphQLClient, count: int, **arguments: Any) -> list[Json]:
    """Wait until `count` deliveries (matching the arguments) are no longer PENDING."""
    found: list[Json] = []

    async def all_settled() -> bool:
        nonlocal found
        found = await deliveries(gql, **arguments)
        return len(found) == count and all(d["status"] != "PENDING" for d in found)

    await eventually(all_settled)
    return found
