"""Sign-in tokens (JWT) for SPA users: verified signature, expiry, issuer and audience;
the tenant and e-mail from claims, the role from our users table."""

import asyncio
import base64
import dataclasses
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from db.database import open_database
from db.models import DEFAULT_TENANT_ID
from domain.access import Role
from services import users
from services.scope import Scope
from settings import JWTSettings, Settings
from tests.conftest import LiveServer, start_server

SECRET = "a-shared-secret-of-at-least-32-characters!"
ISSUER, AUDIENCE = "https://idp.example", "crm-api"
EMAIL = "spa.user@example.com"
WHO_AM_I = "{ pipeline { paidAmount } }"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "user-1",
        "email": EMAIL,
        "tenant_id": DEFAULT_TENANT_ID,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
    }
    return {**base, **overrides}


def hs256(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def unsigned(payload: dict[str, Any]) -> str:
    """A token with `alg: none`: a classic forgery that must never pass."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def tampered(token: str) -> str:
    """The same signature over a payload that names another tenant."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["tenant_id"] = 999
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.fixture(scope="module")
async def signed_in_user(migrated: str) -> AsyncIterator[str]:
    db = open_database(migrated, pool_size=1)
    admin = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
    await users.create_user(db=db, scope=admin, email=EMAIL, role=Role.VIEWER)
    yield EMAIL
    async with db.transaction() as conn:
        await conn.exec_driver_sql("DELETE FROM users WHERE email = $1", (EMAIL,))
    await db.dispose()


async def _serve(settings: Settings, migrated: str, jwt_settings: JWTSettings) -> LiveServer:
    return await start_server(dataclasses.replace(settings, jwt=jwt_settings), migrated)


@pytest.fixture(scope="module")
async def secret_server(
    settings: Settings, migrated: str, signed_in_user: str
) -> AsyncIterator[LiveServer]:
    server = await _serve(
        settings, migrated, JWTSettings(secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    )
    yield server
    await server.stop()


async def _status(server: LiveServer, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/graphql",
            json={"query": WHO_AM_I},
            headers={"Authorization": f"Bearer {token}"},
        )
    return response.status_code


async def test_a_valid_token_of_a_known_user_signs_in(secret_server: LiveServer) -> None:
    assert await _status(secret_server, hs256(claims())) == 200


@pytest.mark.parametrize(
    "token",
    [
        hs256(claims(exp=int(time.time()) - 3600)),
        hs256(claims(iss="https://evil.example")),
        hs256(claims(aud="another-api")),
        hs256(claims(), secret="another-secret-that-is-32-characters-long"),
        tampered(hs256(claims())),
        unsigned(claims()),
        hs256(claims(email="stranger@example.com")),
        hs256({k: v for k, v in claims().items() if k != "tenant_id"}),
        hs256({k: v for k, v in claims().items() if k != "exp"}),
        hs256(claims(tenant_id=999)),
        hs256(claims(email_verified=False)),
        hs256(claims(tenant_id="\u0661")),  # an Arabic-Indic one is not tenant 1
        "not.a.token",
    ],
    ids=[
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "wrong-secret",
        "tampered",
        "alg-none",
        "unknown-user",
        "no-tenant-claim",
        "no-expiry",
        "other-tenant",
        "unverified-email",
        "non-ascii-tenant-digit",
        "garbage",
    ],
)
async def test_a_token_that_does_not_hold_up_is_401(secret_server: LiveServer, token: str) -> None:
    assert await _status(secret_server, token) == 401


@pytest.fixture(scope="module")
async def jwks_server() -> AsyncIterator[tuple[str, rsa.RSAPrivateKey]]:
    """An identity provider's JWKS endpoint on loopback, serving one RSA public key."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})

    async def keys(_request: Request) -> JSONResponse:
        return JSONResponse({"keys": [public_jwk]})

    app = Starlette(routes=[Route("/.well-known/jwks.json", keys)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/.well-known/jwks.json", private_key
    server.should_exit = True
    await task


async def test_tokens_are_verified_against_the_identity_providers_jwks(
    settings: Settings,
    migrated: str,
    signed_in_user: str,
    jwks_server: tuple[str, rsa.RSAPrivateKey],
) -> None:
    # given a server that trusts the keys an identity provider publishes
    url, provider_key = jwks_server
    server = await _serve(
        settings, migrated, JWTSettings(jwks_url=url, issuer=ISSUER, audience=AUDIENCE)
    )
    try:
        good = jwt.encode(claims(), provider_key, algorithm="RS256", headers={"kid": "key-1"})
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "key-1"})
        # then a token the provider signed passes; one signed by anybody else, or an HMAC
        # token (the classic key-confusion attack), does not
        assert await _status(server, good) == 200
        assert await _status(server, forged) == 401
        assert await _status(server, hs256(claims())) == 401
    finally:
        await server.stop()
