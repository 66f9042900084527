"""uvicorn, with a goodbye for live subscriptions before it stops.

On shutdown uvicorn closes every open WebSocket itself (code 1012) before the app's
lifespan hears of it; this server first lets the app end its subscriptions properly: a
`complete` for each, then close 1001 (going away), which graphql-ws clients answer by
reconnecting, to another process if there is one.
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
