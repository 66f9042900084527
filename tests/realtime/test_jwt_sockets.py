"""Sign-in tokens (JWT) over WebSocket: `connection_init` accepts them as HTTP does, and a
socket whose token expires is closed when the credential is checked again."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
import pytest

from db.database import open_database
from db.models import DEFAULT_TENANT_ID
from domain.access import Role
from services import users
from services.scope import Scope
from settings import JWTSettings
from tests.api.operations import create_lead
from tests.conftest import GraphQLClient, LiveServer
from tests.realtime.conftest import Client

SECRET = "a-websocket-test-secret-of-32-characters-or-more"
ISSUER, AUDIENCE = "https://idp.example", "crm-api"
EMAIL = "ws.jwt.user@example.com"
LEAD_STAGES = "subscription { leadStageChanged { toStage } }"
StartServer = Callable[..., Awaitable[LiveServer]]
ConnectTo = Callable[..., Awaitable[Client]]


def token(expires_in: int, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "ws-user",
        "email": EMAIL,
        "tenant_id": DEFAULT_TENANT_ID,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + expires_in,
        **overrides,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture
async def signed_in_user(migrated: str) -> AsyncIterator[str]:
    """A viewer of the default tenant, known by the e-mail its tokens carry."""
    db = open_database(migrated, pool_size=1)
    admin = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
    await users.create_user(db=db, scope=admin, email=EMAIL, role=Role.VIEWER)
    yield EMAIL
    async with db.transaction() as conn:
        await conn.exec_driver_sql("DELETE FROM users WHERE email = $1", (EMAIL,))
    await db.dispose()


def jwt_sign_in() -> JWTSettings:
    # No leeway: a token expires when its `exp` says.
    return JWTSettings(secret=SECRET, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0)


async def test_a_signed_in_user_subscribes_with_a_jwt_in_connection_init(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    signed_in_user: str,
    gql: GraphQLClient,
) -> None:
    # given a server that accepts sign-in tokens, and a client sending one in
    # connection_init
    server = await realtime_server(jwt=jwt_sign_in())
    client = await connect_to(server)
    # when it initialises; then it is acknowledged
    assert await client.init(token(expires_in=300)) == {"type": "connection_ack"}
    # and its subscription receives changes
    subscription = await client.subscribe(LEAD_STAGES)
    await create_lead(gql)
    assert (await client.next_data(subscription))["leadStageChanged"] == {"toStage": "NEW"}


@pytest.mark.parametrize(
    "claims",
    [{"expires_in": -60}, {"expires_in": 300, "email": "stranger@example.com"}],
    ids=["expired", "unknown-user"],
)
async def test_a_refused_jwt_in_connection_init_is_closed_4403(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    signed_in_user: str,
    claims: dict[str, Any],
) -> None:
    server = await realtime_server(jwt=jwt_sign_in())
    client = await connect_to(server)
    payload = {"Authorization": f"Bearer {token(**claims)}"}
    await client.send({"type": "connection_init", "payload": payload})
    assert (await client.closed()).code == 4403


async def test_a_socket_whose_jwt_expires_is_closed_4403_on_the_recheck(
    realtime_server: StartServer, connect_to: ConnectTo, signed_in_user: str
) -> None:
    # given a server that checks credentials again every 0.3 s, and a subscriber whose
    # token expires in two to three seconds
    server = await realtime_server(jwt=jwt_sign_in(), credential_recheck_seconds=0.3)
    client = await connect_to(server)
    assert await client.init(token(expires_in=3)) == {"type": "connection_ack"}
    await client.subscribe(LEAD_STAGES)
    # when it expires; then the socket is closed as forbidden
    closed = await client.closed()
    assert (closed.code, closed.reason) == (4403, "Forbidden: the credential is no longer valid")
