"""One HTTP POST of a delivery to an endpoint, and how it went.

The address is checked (url_safety) right before sending and the connection goes to
exactly that address, with the endpoint's host name in `Host` and in TLS (SNI and the
certificate check). Redirects are never followed (a 3xx is a failure: a receiver could
otherwise bounce us into our own network); proxies from the environment are ignored;
connections are not reused, so each delivery's address check holds for its connection.
The whole attempt, lookup included, must finish within CRM_WEBHOOK_TIMEOUT_SECONDS.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import httpx2

from services.webhooks import url_safety
from services.webhooks.url_safety import UnsafeUrl

USER_AGENT = "crm-webhooks/1"
_MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: the HTTP status, if any came back, and what went wrong."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Shared by all deliveries of a worker; `aclose` when the worker stops."""

    def __init__(self, *, timeout_seconds: float, allow_private: bool) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private = allow_private
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            limits=httpx2.Limits(max_keepalive_connections=0),
        )

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        try:
            return await self._send(url, body, headers)
        except UnsafeUrl as refusal:
            return Outcome(None, _short(f"Not sent: {refusal}"))
        except (TimeoutError, httpx2.TimeoutException):
            return Outcome(None, f"No answer within {self.timeout_seconds:g} s.")
        except httpx2.HTTPError as error:
            return Outcome(None, _short(f"{type(error).__name__}: {error}"))

    async def _send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        async with asyncio.timeout(self.timeout_seconds):
            target = url_safety.parse_target(url)
            address = await url_safety.resolve(
                target, allow_private=self.allow_private, lookup_seconds=self.timeout_seconds
            )
            extensions = {"sni_hostname": target.host} if target.ip_literal is None else {}
            async with self._client.stream(
                "POST",
                target.url_for(address),
                content=body,
                headers={
                    **headers,
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
                extensions=extensions,
            ) as response:
                status = response.status_code
        return Outcome(status, _problem(status))

    async def aclose(self) -> None:
        await self._client.aclose()


def _problem(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed; point the webhook at the final URL."
    return f"HTTP {status} from the endpoint."


def _short(message: str) -> str:
    return message if len(message) <= _MAX_ERROR else message[: _MAX_ERROR - 1] + "…"
