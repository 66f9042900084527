"""Sign-in tokens (JWT) from an identity provider, for SPA users.

The token proves who the caller is (signature, expiry, issuer, audience); the tenant
and the e-mail come from configured claims; the role comes from our own `users` table,
so an admin here decides what a signed-in person may do.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from db.database import Database
from db.queries import access
from db.tenancy import acting_for
from services.scope import Scope
from settings import JWTSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claims:
    tenant_id: int
    email: str


class TokenVerifier:
    def __init__(self, settings: JWTSettings) -> None:
        self._settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            if settings.jwks_url is not None
            else None
        )

    async def claims(self, token: str) -> Claims | None:
        """The verified claims, or None for any token that does not hold up."""
        try:
            key = await self._key_for(token)
            decoded: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._settings.algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientError as error:
            log.warning("JWKS unavailable or key unknown: %s", error)
            return None
        except jwt.PyJWTError:
            return None
        return _claims(decoded, self._settings)

    async def _key_for(self, token: str) -> Any:
        if self._jwks is None:
            return self._settings.secret
        # PyJWKClient fetches with blocking I/O (cached afterwards): keep it off the loop.
        signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        return signing_key.key


def _claims(decoded: dict[str, Any], settings: JWTSettings) -> Claims | None:
    """Tenant and e-mail from the token; an e-mail the provider marks unverified is
    refused, since anyone could have typed it at sign-up."""
    if decoded.get("email_verified") is False:
        return None
    tenant, email = decoded.get(settings.tenant_claim), decoded.get(settings.email_claim)
    if isinstance(tenant, str) and tenant.isascii() and tenant.isdigit():
        tenant = int(tenant)
    if not isinstance(tenant, int) or isinstance(tenant, bool) or not 0 < tenant < 2**63:
        return None
    if not isinstance(email, str) or not email or len(email) > 254:
        return None
    return Claims(tenant_id=tenant, email=email)


async def authenticate(*, db: Database, verifier: TokenVerifier, token: str) -> Scope | None:
    """The signed-in user, when the token holds up and names an active user of its tenant."""
    claims = await verifier.claims(token)
    if claims is None:
        return None
    with acting_for(claims.tenant_id):
        async with db.read() as conn:
            user = await access.user_by_email(conn, tenant_id=claims.tenant_id, email=claims.email)
    if user is None or not user.active:
        return None
    return Scope(tenant_id=user.tenant_id, actor=user.email, user_id=user.id, role=user.role)


def expires_at(token: str) -> datetime:
    """The `exp` of a token `authenticate` accepted a moment ago (its signature checked
    then): how long its caller may be remembered, never whether it is let in."""
    unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    try:
        return datetime.fromtimestamp(unverified["exp"], UTC)
    except (OverflowError, OSError, ValueError):  # years away: past any cache lifetime
        return datetime.max.replace(tzinfo=UTC)
