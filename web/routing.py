"""The GraphQL endpoint is reached before Starlette's router.

Nearly every request is a GET or POST to /graphql. Starlette's exception middleware, its
router and the wrapper that turns a function into an endpoint cost a few percent of the
CPU of a point lookup (about 3 %, measured in process), for nothing: the endpoint
answers every failure itself (web/graphql_http.py). `GraphQLFirst` hands those requests
straight to the endpoint, an ASGI app; everything else (WebSocket subscriptions,
/healthz, other methods and paths, which Starlette answers with 404 or 405) goes on to
Starlette. Middleware listed before it, such as CORS, still wraps both.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

GRAPHQL_PATH = "/graphql"
_METHODS = frozenset(("GET", "POST"))


class GraphQLFirst:
    def __init__(self, app: ASGIApp, *, endpoint: ASGIApp) -> None:
        self.app = app
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and scope["method"] in _METHODS
        ):
            await self._endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
