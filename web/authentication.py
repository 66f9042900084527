"""Who is calling: the `Authorization: Bearer <credential>` header, checked once per request.

An API key (`crm_…`) is looked up by its prefix; anything else is refused for now.
A missing or bad credential is answered 401 before any GraphQL work is done.
"""

from starlette.requests import Request

from db.database import Database
from services import api_keys
from services.scope import Scope


async def authenticate(request: Request, db: Database) -> Scope | None:
    """The caller, or None when the request carries no valid credential."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return None
    if api_keys.looks_like_api_key(token):
        return await api_keys.authenticate(db=db, token=token)
    return None


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        return None
    return token.strip()
