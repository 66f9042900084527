"""uvicorn, with a goodbye for live subscriptions before it stops.

On shutdown uvicorn closes every open WebSocket itself (code 1012) before the app's
lifespan hears of it; this server first lets the app say goodbye properly: close 1001
(going away), which graphql-ws clients answer by reconnecting, to another process if
there is one, and subscribing again. No `complete` is sent for the subscriptions: a
client takes that as "this stream has ended for good" and would not subscribe again.
"""

import socket
from collections.abc import Awaitable, Callable

import uvicorn


class GracefulServer(uvicorn.Server):
    def __init__(
        self, config: uvicorn.Config, before_shutdown: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._before_shutdown()
        await super().shutdown(sockets=sockets)
