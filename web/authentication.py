"""Who is calling: the `Authorization: Bearer <credential>` header, checked once per request.

An API key (`crm_…`) is looked up by its prefix; anything else is a sign-in token (JWT)
when JWT sign-in is configured. A missing or bad credential is answered 401 before any
GraphQL work is done.
"""

from starlette.requests import Request

from resolvers.context import AppServices
from services import api_keys, tokens
from services.scope import Scope


async def authenticate(request: Request, services: AppServices) -> Scope | None:
    """The caller, or None when the request carries no valid credential."""
    token = bearer_token(request.headers.get("authorization"))
    return None if token is None else await caller_for(token, services)


async def caller_for(token: str, services: AppServices) -> Scope | None:
    """The one credential check, for an HTTP header or a WebSocket `connection_init`."""
    if api_keys.looks_like_api_key(token):
        return await api_keys.authenticate(db=services.db, token=token)
    if services.tokens is not None:
        return await tokens.authenticate(db=services.db, verifier=services.tokens, token=token)
    return None


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        return None
    return token.strip()
