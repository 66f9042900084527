"""The floor for fan-out: a bare Starlette WebSocket broadcast on the same uvicorn stack.

    python -m bench.raw_broadcast PORT

Clients connect to /ws and send nothing; POST /publish sends its body, as it is, to every
connected client. No protocol, no authentication, no database, no GraphQL: what is left
is the cost of the transport that the fan-out benchmark compares the service against.
"""

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def connect(websocket: WebSocket) -> None:
    await websocket.accept()
    clients.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        clients.discard(websocket)


async def publish(request: Request) -> Response:
    body = (await request.body()).decode()
    await asyncio.gather(*(client.send_text(body) for client in list(clients)))
    return Response(status_code=204)


async def healthz(_request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[
        WebSocketRoute("/ws", connect),
        Route("/publish", publish, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)

if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )
