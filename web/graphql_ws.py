"""GraphQL subscriptions over WebSocket at /graphql: the graphql-transport-ws protocol.

The protocol is graphql-ws's (github.com/enisdenjo/graphql-ws, PROTOCOL.md); the legacy
`graphql-ws` subprotocol of subscriptions-transport-ws is not served. Our own handler,
rather than Strawberry's, because every check must be the HTTP endpoint's own: the
credential check (`caller_for`), the document cache with its limits and cost, and the
permission table, run under the caller's tenant; and because delivery shares loaders and
results among a tenant's subscribers (web/ws_operations.py), which Strawberry's handler
has no place for. It keeps what Strawberry's learned the hard way (CVEs before 0.341): no
operation before `connection_ack`, and a bounded number of subscriptions per connection.

Closes: 4400 invalid message, 4401 subscribe before the ack, 4403 bad or missing
credential, 4406 subprotocol not graphql-transport-ws, 4408 no `connection_init` in time,
4409 an id already subscribed, 4429 a second `connection_init`, 4499 no `pong` in time,
1001 the server is shutting down (no `complete` first: clients are to subscribe again),
1009 a message over the size limit, 1013 an internal error while connecting (retry
later). Only subscriptions run here: a query or mutation gets an `error` message (send
those over HTTP, with its rate limit and request ids).
"""

import asyncio
import contextlib
import dataclasses
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect

from db.tenancy import acting_for
from resolvers.context import AppServices, Context
from services.scope import Scope
from web.authentication import bearer_token, caller_for
from web.documents import DocumentCache
from web.ws_operations import Operations, Running, SubscriptionEnded

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"

BAD_MESSAGE = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY_INITS = 4429
NO_PONG = 4499
GOING_AWAY = 1001
TOO_BIG = 1009
TRY_AGAIN_LATER = 1013

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# How long a close (or the goodbye at shutdown) may wait on a client that reads nothing.
_CLOSE_WAIT_SECONDS = 5.0


class GraphQLWebSocketEndpoint:
    def __init__(
        self, *, schema: strawberry.Schema, services: AppServices, documents: DocumentCache
    ) -> None:
        self._services = services
        self._operations = Operations(schema=schema, services=services, documents=documents)
        self._connections: set[_Connection] = set()
        self._closing = False

    async def handle(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", ()):
            await websocket.accept()
            await websocket.close(SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=PROTOCOL)
        if self._closing:
            await websocket.close(GOING_AWAY, "Server shutting down")
            return
        connection = _Connection(websocket, self._services, self._operations)
        self._connections.add(connection)
        try:
            await connection.serve()
        finally:
            self._connections.discard(connection)

    async def shutdown(self) -> None:
        """Close every connection with 1001 (its subscriptions stopped, not completed),
        so clients reconnect and subscribe again."""
        self._closing = True
        await asyncio.gather(
            *(
                asyncio.wait_for(connection.go_away(), _CLOSE_WAIT_SECONDS)
                for connection in list(self._connections)
            ),
            return_exceptions=True,
        )


class _Connection:
    def __init__(self, websocket: WebSocket, services: AppServices, operations: Operations):
        self._websocket = websocket
        self._services = services
        self._settings = services.settings.realtime
        self._operations = operations
        self._id = uuid.uuid4().hex[:16]
        self._scope: Scope | None = None
        self._init_received = False
        self._running: dict[str, _Operation] = {}
        self._send_lock = asyncio.Lock()
        self._closed = False
        self._pong = asyncio.Event()
        self._done = asyncio.Event()
        self._timers: list[asyncio.Task[None]] = []

    async def serve(self) -> None:
        """Until the client leaves or the server closes: once it has sent its close, the
        handler returns at once (uvicorn finishes the closing handshake), so a client
        that reads nothing cannot hold it."""
        self._timers.append(asyncio.create_task(self._init_deadline()))
        reader = asyncio.create_task(self._read())
        done = asyncio.create_task(self._done.wait())
        try:
            await asyncio.wait({reader, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._closed = True
            for task in (reader, done, *self._timers):
                task.cancel()
            await self._stop_all()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self) -> None:
        try:
            while not self._closed:
                message = await self._websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await self._receive(message)
        except WebSocketDisconnect:
            return

    async def go_away(self) -> None:
        """Stop every subscription and close with 1001, with no `complete` for them:
        graphql-ws clients (GraphiQL, Apollo, urql) take `complete` as "this stream has
        ended for good" and would not subscribe again after reconnecting."""
        await self._stop_all()
        await self._close(GOING_AWAY, "Server shutting down")

    async def _receive(self, frame: Mapping[str, Any]) -> None:
        text = frame.get("text")
        if text is None:
            await self._close(BAD_MESSAGE, "Messages must be text (JSON)")
            return
        if len(text) > self._services.settings.max_body_bytes:
            await self._close(TOO_BIG, "Message too large")
            return
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self._close(BAD_MESSAGE, "Messages must be JSON")
            return
        problem = _invalid(message)
        if problem is not None:
            await self._close(BAD_MESSAGE, problem)
            return
        try:
            await self._dispatch(message)
        except Exception:
            log.exception("websocket %s: handling a %s message failed", self._id, message["type"])
            await self._close(TRY_AGAIN_LATER, "Internal server error")

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._connection_init(message.get("payload") or {})
        elif kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if message.get("payload") is not None:
                pong["payload"] = message["payload"]
            await self._send(pong)
        elif kind == "pong":
            self._pong.set()
        elif kind == "subscribe":
            await self._subscribe(message["id"], message["payload"])
        elif kind == "complete":
            operation = self._running.pop(message["id"], None)
            if operation is not None:
                await operation.stop()

    async def _connection_init(self, payload: dict[str, Any]) -> None:
        if self._init_received:
            await self._close(TOO_MANY_INITS, "Too many initialisation requests")
            return
        self._init_received = True
        token = bearer_token(_authorization(payload))
        scope = None if token is None else await caller_for(token, self._services)
        if token is None or scope is None:
            await self._close(FORBIDDEN, 'Forbidden: send {"Authorization": "Bearer <API key>"}')
            return
        self._scope = scope
        await self._send({"type": "connection_ack"})
        self._timers.append(asyncio.create_task(self._keep_alive()))
        self._timers.append(asyncio.create_task(self._recheck(token)))

    async def _subscribe(self, operation_id: str, payload: dict[str, Any]) -> None:
        if self._scope is None:
            await self._close(UNAUTHORIZED, "Unauthorized")
            return
        if operation_id in self._running:
            await self._close(DUPLICATE_ID, f"Subscriber for {operation_id[:60]} already exists")
            return
        limit = self._settings.max_subscriptions_per_connection
        if len(self._running) >= limit:
            message = f"Too many subscriptions on this connection: at most {limit}."
            error = GraphQLError(message, extensions={"code": TOO_MANY_SUBSCRIPTIONS})
            await self._send_errors(operation_id, [error])
            return
        scope = self._scope
        request_id = f"{self._id}-{operation_id[:32]}"
        context = Context(
            app=self._services,
            scope=dataclasses.replace(scope, request_id=request_id),
            request_id=request_id,
        )
        try:
            plan = self._operations.prepare(
                scope, payload["query"], payload.get("variables"), payload.get("operationName")
            )
            # Started before the next message is read: once anything sent after this
            # `subscribe` is answered (a ping, say), the subscription is receiving.
            with acting_for(scope.tenant_id):
                stream = await self._operations.start(plan, context)
                task = asyncio.create_task(self._run(operation_id, stream, request_id))
        except SubscriptionEnded as refused:
            await self._send_errors(operation_id, refused.errors)
            return
        self._running[operation_id] = _Operation(task, stream)

    async def _run(self, operation_id: str, stream: Running, request_id: str) -> None:
        try:
            async for payload in stream.results():
                await self._send_next(operation_id, payload)
        except SubscriptionEnded as ended:
            await self._finish(operation_id, {"type": "error", "payload": _formatted(ended.errors)})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription %s failed", request_id)
            error = GraphQLError(
                "Internal server error.", extensions={"code": "INTERNAL", "requestId": request_id}
            )
            await self._finish(operation_id, {"type": "error", "payload": [error.formatted]})
        else:
            await self._finish(operation_id, {"type": "complete"})
        finally:
            await stream.aclose()

    def _is_current(self, operation_id: str) -> bool:
        """Whether the calling task still runs this id (the client may have completed it)."""
        operation = self._running.get(operation_id)
        return operation is not None and operation.task is asyncio.current_task()

    async def _finish(self, operation_id: str, message: dict[str, Any]) -> None:
        """The last message of an operation, unless the client completed it meanwhile."""
        if self._is_current(operation_id):
            del self._running[operation_id]
            await self._send({"id": operation_id, **message})

    async def _send_next(self, operation_id: str, payload: str) -> None:
        text = f'{{"id":{orjson.dumps(operation_id).decode()},"type":"next","payload":{payload}}}'
        async with self._send_lock:
            # A `complete` from the client ends the operation: nothing more for its id.
            if self._is_current(operation_id):
                await self._write(text)

    async def _send_errors(self, operation_id: str, errors: list[GraphQLError]) -> None:
        await self._send({"id": operation_id, "type": "error", "payload": _formatted(errors)})

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._write(orjson.dumps(message).decode())

    async def _write(self, text: str) -> None:
        if self._closed:
            return
        try:
            await self._websocket.send_text(text)
        except (WebSocketDisconnect, OSError, RuntimeError):
            self._closed = True

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        # Not behind the send lock: a send stuck on a client that reads nothing holds it.
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
            await asyncio.wait_for(
                self._websocket.close(code, _close_reason(reason)), _CLOSE_WAIT_SECONDS
            )
        self._done.set()

    async def _stop_all(self) -> None:
        operations = list(self._running.values())
        self._running.clear()
        for operation in operations:
            await operation.stop()

    async def _init_deadline(self) -> None:
        await asyncio.sleep(self._settings.connection_init_timeout_seconds)
        if not self._init_received:
            await self._close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def _recheck(self, token: str) -> None:
        """The credential is checked again now and then, as HTTP checks it on every
        request: a revoked key, a deactivated user or an expired JWT stops receiving."""
        while not self._closed:
            await asyncio.sleep(_spread(self._settings.credential_recheck_seconds))
            try:
                still = await caller_for(token, self._services)
            except Exception:
                log.warning("websocket %s: credential recheck failed; later", self._id)
                continue
            if still is None:
                await self._close(FORBIDDEN, "Forbidden: the credential is no longer valid")
                return

    async def _keep_alive(self) -> None:
        """A ping every interval; a connection that does not pong in time is closed."""
        while not self._closed:
            await asyncio.sleep(_spread(self._settings.ping_interval_seconds))
            self._pong.clear()
            try:
                async with asyncio.timeout(self._settings.pong_timeout_seconds):
                    await self._send({"type": "ping"})
                    await self._pong.wait()
            except TimeoutError:
                await self._close(NO_PONG, "Keep-alive timeout: no pong")
                return


def _spread(interval: float) -> float:
    """About `interval`: connections opened together (thousands reconnecting after a
    deploy) must not all ping or recheck in the same instant, delaying deliveries."""
    return interval * random.uniform(0.8, 1.2)  # noqa: S311 - spreading load, not a secret


@dataclass(frozen=True, slots=True)
class _Operation:
    task: "asyncio.Task[None]"
    stream: Running

    async def stop(self) -> None:
        """Nothing more is sent for it, and its mailbox is closed, even if the task never
        got to run."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.stream.aclose()


def _authorization(payload: dict[str, Any]) -> str | None:
    value = payload.get("Authorization", payload.get("authorization"))
    return value if isinstance(value, str) else None


def _close_reason(reason: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    return reason.encode()[:123].decode(errors="ignore")


def _formatted(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(error.formatted) for error in errors]


def _invalid(message: Any) -> str | None:
    """What is wrong with a message's shape (the protocol's rules); None when nothing."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "A message must be a JSON object with a string `type`"
    kind = message["type"]
    if kind in {"connection_init", "ping", "pong"}:
        payload = message.get("payload")
        return None if payload is None or isinstance(payload, dict) else f"Invalid {kind} payload"
    if kind == "complete":
        return None if _is_id(message.get("id")) else "`complete` needs a non-empty string `id`"
    if kind != "subscribe":
        return f"Unknown message type {kind[:40]!r}"
    if not _is_id(message.get("id")):
        return "`subscribe` needs a non-empty string `id`"
    payload = message.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "`subscribe` needs a `payload` with a string `query`"
    for name, kinds in (("variables", dict), ("operationName", str), ("extensions", dict)):
        value = payload.get(name)
        if value is not None and not isinstance(value, kinds):
            return f"Invalid `{name}` in `subscribe`"
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value != ""
