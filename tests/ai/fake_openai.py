"""A fake OpenAI-compatible server: real HTTP on 127.0.0.1, answers programmed per test.

Set `fake.reply` before calling the scorer (or `fake.replies`: answered in order, one per
request, before `fake.reply` takes over); read `fake.requests` afterwards to see exactly
what the real `openai` client sent.
"""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Stands in for whatever an upstream error page might say; must never reach a caller.
SERVER_ERROR_TEXT = "upstream stack trace: secret-token-1234"


@dataclass(frozen=True)
class Reply:
    """What the fake answers: a chat message `content`, an HTTP error `status`,
    or a whole `body` that is not a chat completion at all."""

    status: int = 200
    content: str = ""
    body: str | None = None
    media_type: str = "application/json"
    delay_seconds: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)
    prompt_tokens: int = 1
    completion_tokens: int = 1


def answer(payload: object) -> Reply:
    return Reply(content=json.dumps(payload))


def raw_content(text: str) -> Reply:
    return Reply(content=text)


def raw_body(text: str, media_type: str = "application/json") -> Reply:
    return Reply(body=text, media_type=media_type)


def http_error(status: int, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status=status, headers=headers or {})


def slow(seconds: float, payload: object) -> Reply:
    return Reply(content=json.dumps(payload), delay_seconds=seconds)


@dataclass(frozen=True)
class ReceivedRequest:
    body: dict[str, Any]
    authorization: str | None


class FakeOpenAI:
    def __init__(self) -> None:
        self.base_url = ""
        self.reply = Reply()
        self.replies: list[Reply] = []
        self.requests: list[ReceivedRequest] = []
        self._release = asyncio.Event()
        self.app = Starlette(
            routes=[Route("/v1/chat/completions", self._chat_completions, methods=["POST"])]
        )

    def reset(self) -> None:
        """Forget past requests and let any still-sleeping slow reply finish now."""
        self.reply = Reply()
        self.replies.clear()
        self.requests.clear()
        self._release.set()
        self._release = asyncio.Event()

    async def _chat_completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(ReceivedRequest(body, request.headers.get("authorization")))
        reply = self.replies.pop(0) if self.replies else self.reply
        release = self._release
        if reply.delay_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), reply.delay_seconds)
        if reply.status != 200:
            error = {"error": {"message": SERVER_ERROR_TEXT, "type": "server_error"}}
            return JSONResponse(error, status_code=reply.status, headers=dict(reply.headers))
        if reply.body is not None:
            return Response(reply.body, media_type=reply.media_type)
        return JSONResponse(_completion(body.get("model", ""), reply))


def _completion(model: str, reply: Reply) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply.content, "refusal": None}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C belongs to the test runner, not to the fake.
        yield


@contextlib.asynccontextmanager
async def serving_fake_openai() -> AsyncIterator[FakeOpenAI]:
    """Serve a FakeOpenAI on a free local port for the duration of the block."""
    fake = FakeOpenAI()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = _Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await _until_started(server, serving)
        fake.base_url = f"http://127.0.0.1:{port}/v1"
        yield fake
    finally:
        fake.reset()
        server.should_exit = True
        await serving
        listener.close()


async def _until_started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    async with asyncio.timeout(5):
        while not server.started:
            if serving.done():
                serving.result()  # surfaces why the server could not start
                raise RuntimeError("fake OpenAI server stopped before it started")
            await asyncio.sleep(0.01)
