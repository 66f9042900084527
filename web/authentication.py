"""Who is calling: the `Authorization: Bearer <credential>` header, checked once per request.

An API key (`crm_…`) is looked up by its prefix; anything else is a sign-in token (JWT)
when JWT sign-in is configured. A missing or bad credential is answered 401 before any
GraphQL work is done. A credential checked lately is answered from this process's cache
of callers (services/caller_cache.py), which forgets a tenant's callers whenever one of
its keys or users changes.
"""

from datetime import datetime

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
    callers = services.callers
    remembered = callers.recall(token)
    if remembered is not None:
        return remembered
    ticket = callers.ticket()  # before the check: a change of access meanwhile voids it
    scope = await _check(token, services)
    if scope is not None and ticket is not None:
        expires_at = await _expiry(token, scope, services)
        callers.remember(token, scope, expires_at=expires_at, ticket=ticket)
    return scope


async def _check(token: str, services: AppServices) -> Scope | None:
    if api_keys.looks_like_api_key(token):
        return await api_keys.authenticate(db=services.db, token=token)
    if services.tokens is not None:
        return await tokens.authenticate(db=services.db, verifier=services.tokens, token=token)
    return None


async def _expiry(token: str, scope: Scope, services: AppServices) -> datetime | None:
    """When the credential ends by itself (None: never)."""
    if scope.api_key_id is not None:
        return await api_keys.expires_at(db=services.db, scope=scope)
    return tokens.expires_at(token)


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        return None
    return token.strip()
