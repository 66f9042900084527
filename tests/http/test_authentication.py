"""Every request names its caller with `Authorization: Bearer <API key>`, or gets a 401.

A refusal is the same for every reason (no header, a wrong scheme, garbage, a wrong
secret, a revoked or expired key, a deactivated user): HTTP 401, `WWW-Authenticate`, and
one UNAUTHENTICATED error for the whole request. Keys are made through the services, as
an admin would make them; the database is real.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.records import UserRecord
from domain.access import Role
from services import api_keys, users
from services.api_keys import IssuedKey
from services.scope import Scope
from tests.api.operations import CREATE_LEAD, list_leads
from tests.conftest import (
    AUTHENTICATION_STATEMENTS,
    GraphQLClient,
    LiveServer,
    StatementCounter,
    bearer,
)
from web.negotiation import GRAPHQL_RESPONSE, JSON

TYPENAME = {"query": "{ __typename }"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ADMIN = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)


class Accounts:
    """Users and keys made through the services; removed again when the module ends."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._user_ids: list[int] = []

    async def user(self, email: str, role: Role = Role.VIEWER) -> UserRecord:
        user = await users.create_user(db=self.db, scope=ADMIN, email=email, role=role)
        self._user_ids.append(user.id)
        return user

    async def key(self, user: UserRecord, *, expires_at: datetime | None = None) -> IssuedKey:
        return await api_keys.issue_key(
            db=self.db, scope=ADMIN, name="auth", user_id=user.id, expires_at=expires_at
        )

    async def key_row(self, key: IssuedKey) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = await conn.execute(
                text("SELECT *, now() AS db_now FROM api_keys WHERE id = :id"), {"id": key.key.id}
            )
            return dict(row.mappings().one())

    async def execute(self, sql: str, **values: Any) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(text(sql), values)

    async def remove_all(self) -> None:
        ids = {"ids": self._user_ids}
        async with self.db.transaction() as conn:
            await conn.execute(text("DELETE FROM api_keys WHERE user_id = ANY(:ids)"), ids)
            await conn.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), ids)


@pytest.fixture(scope="module")
async def accounts(migrated: str) -> AsyncIterator[Accounts]:
    db = open_database(migrated, pool_size=1)
    made = Accounts(db)
    yield made
    await made.remove_all()
    await db.dispose()


@pytest.fixture(scope="module")
async def owner(accounts: Accounts) -> UserRecord:
    """A viewer whose keys the tests issue, revoke and let expire."""
    return await accounts.user("key-owner@auth.example.com")


@pytest.fixture(scope="module")
async def owner_key(accounts: Accounts, owner: UserRecord) -> IssuedKey:
    return await accounts.key(owner)


@pytest.fixture(scope="module")
async def anonymous(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the live server that sends no credentials unless a test adds them."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield client


async def typename_as(client: httpx.AsyncClient, key: IssuedKey) -> httpx.Response:
    return await client.post("/graphql", json=TYPENAME, headers=bearer(key.secret))


def assert_unauthenticated(response: httpx.Response) -> None:
    """What every refusal looks like: 401, a challenge, one UNAUTHENTICATED error, no data."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer realm="crm"'
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert set(error) == {"message", "extensions"}, error
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "Bearer" in error["message"]


def assert_served(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


# ---------------------------------------------------------------- no credentials


@dataclass(frozen=True)
class Anonymous:
    id: str
    method: str
    accept: str
    params: dict[str, str] | None = None
    body: bytes | None = None


ANONYMOUS_REQUESTS = [
    Anonymous("POST, JSON", "POST", JSON, body=b'{"query": "{ __typename }"}'),
    Anonymous("POST, graphql-response", "POST", GRAPHQL_RESPONSE, body=b'{"query": "{ leads }"}'),
    Anonymous("GET with a query, JSON", "GET", JSON, params=TYPENAME),
    Anonymous("GET with a query, graphql-response", "GET", GRAPHQL_RESPONSE, params=TYPENAME),
    # Credentials come first: an anonymous caller learns nothing about its request.
    Anonymous("POST, a broken body", "POST", JSON, body=b'{"query": '),
    Anonymous("GET with no query", "GET", JSON),
]


@pytest.mark.parametrize("case", ANONYMOUS_REQUESTS, ids=lambda case: case.id)
async def test_a_request_without_credentials_is_refused_with_401(
    anonymous: httpx.AsyncClient, case: Anonymous
) -> None:
    # given a request with no Authorization header
    headers = {"accept": case.accept, "content-type": "application/json"}
    # when it is sent
    response = await anonymous.request(
        case.method, "/graphql", params=case.params, content=case.body, headers=headers
    )
    # then the whole request is refused, in the media type asked for
    assert_unauthenticated(response)
    assert response.headers["content-type"].startswith(case.accept)


async def test_a_mutation_without_credentials_changes_nothing(
    anonymous: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # given an anonymous createLead
    variables = {"input": {"name": "Eve", "source": "OTHER"}}
    # when it is sent
    response = await anonymous.post("/graphql", json={"query": CREATE_LEAD, "variables": variables})
    # then it is refused and no lead exists
    assert_unauthenticated(response)
    assert (await list_leads(gql))["totalCount"] == 0


async def test_a_browser_gets_graphiql_without_credentials(anonymous: httpx.AsyncClient) -> None:
    # given a browser with no credentials (it pastes its key into GraphiQL later)
    # when it opens /graphql, even a link with a query in it
    responses = [
        await anonymous.get("/graphql", headers={"accept": BROWSER}),
        await anonymous.get("/graphql", params=TYPENAME, headers={"accept": BROWSER}),
    ]
    # then GraphiQL is served
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "graphiql" in response.text.lower()


# ---------------------------------------------------------------- malformed credentials


def _wrong_secret(key: str) -> str:
    """The key's real `crm_<prefix>_` with another well-formed secret."""
    public, secret = key[:17], key[17:]
    return public + ("B" if secret.startswith("A") else "A") * 43


@dataclass(frozen=True)
class Malformed:
    id: str
    header: Callable[[str], str]  # from a real, working key
    # SQL the server may send to refuse it: a token that cannot be a key costs none.
    statements: int = 0


MALFORMED = [
    Malformed("Basic credentials", lambda _key: "Basic dXNlcjpwYXNzd29yZA=="),
    Malformed("a real key under Basic", lambda key: f"Basic {key}"),
    Malformed("a real key without a scheme", lambda key: key),
    Malformed("Bearer with nothing", lambda _key: "Bearer"),
    Malformed("a garbage token", lambda _key: "Bearer not-an-api-key"),
    Malformed("crm_ garbage", lambda _key: "Bearer crm_zzzz_zzzz"),
    Malformed("the key cut short", lambda key: f"Bearer {key[:-1]}"),
    Malformed("the key twice", lambda key: f"Bearer {key} {key}"),
    Malformed("an oversized header", lambda key: f"Bearer {key}{'A' * 8000}"),
    Malformed(
        "a well-formed unknown key",
        lambda _key: f"Bearer crm_{'0' * 12}_{'A' * 43}",
        AUTHENTICATION_STATEMENTS,
    ),
    Malformed(
        "a real prefix, a wrong secret",
        lambda key: f"Bearer {_wrong_secret(key)}",
        AUTHENTICATION_STATEMENTS,
    ),
]


@pytest.mark.parametrize("case", MALFORMED, ids=lambda case: case.id)
async def test_a_malformed_or_wrong_credential_is_refused_with_401(
    anonymous: httpx.AsyncClient,
    owner_key: IssuedKey,
    count_statements: StatementCounter,
    case: Malformed,
) -> None:
    # given an Authorization header made from a real, working key
    assert_served(await typename_as(anonymous, owner_key))
    count_statements.count = 0
    # when a request carries the malformed header instead
    response = await anonymous.post(
        "/graphql", json=TYPENAME, headers={"Authorization": case.header(owner_key.secret)}
    )
    # then it is refused, and no GraphQL work reached the database
    assert_unauthenticated(response)
    assert count_statements.count == case.statements


@pytest.mark.parametrize(
    "header",
    ["Bearer {key}", "bearer {key}", "BEARER {key}"],
    ids=["Bearer", "lower-case scheme", "upper-case scheme"],
)
async def test_the_bearer_scheme_is_case_insensitive(
    anonymous: httpx.AsyncClient, owner_key: IssuedKey, header: str
) -> None:
    # given a real key under any spelling of the Bearer scheme (RFC 7235: case-insensitive)
    # when it is sent
    response = await anonymous.post(
        "/graphql", json=TYPENAME, headers={"Authorization": header.format(key=owner_key.secret)}
    )
    # then it is accepted
    assert_served(response)


# ---------------------------------------------------------------- keys that stop working


async def test_a_revoked_key_is_refused_at_once(
    anonymous: httpx.AsyncClient, accounts: Accounts, owner: UserRecord
) -> None:
    # given a key that works
    key = await accounts.key(owner)
    assert_served(await typename_as(anonymous, key))
    # when an admin revokes it
    await api_keys.revoke_key(db=accounts.db, scope=ADMIN, key_id=key.key.id)
    # then the very next request with it is refused
    assert_unauthenticated(await typename_as(anonymous, key))


async def test_an_expired_key_is_refused(
    anonymous: httpx.AsyncClient, accounts: Accounts, owner: UserRecord
) -> None:
    # given a key that expires in an hour, and works until then
    key = await accounts.key(owner, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert_served(await typename_as(anonymous, key))
    # when its expiry passes
    await accounts.execute(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=key.key.id,
    )
    # then it is refused
    assert_unauthenticated(await typename_as(anonymous, key))


async def test_the_keys_of_a_deactivated_user_are_refused(
    anonymous: httpx.AsyncClient, accounts: Accounts
) -> None:
    # given a manager with two keys that work
    manager = await accounts.user("leaving@auth.example.com", Role.MANAGER)
    keys = [await accounts.key(manager), await accounts.key(manager)]
    for key in keys:
        assert_served(await typename_as(anonymous, key))
    # when an admin deactivates the manager
    await users.deactivate_user(db=accounts.db, scope=ADMIN, user_id=manager.id)
    # then every key of theirs is refused at once
    for key in keys:
        assert_unauthenticated(await typename_as(anonymous, key))


async def test_other_keys_keep_working_when_one_is_revoked(
    anonymous: httpx.AsyncClient, accounts: Accounts, owner: UserRecord
) -> None:
    # given two keys of one user
    revoked, kept = await accounts.key(owner), await accounts.key(owner)
    # when one is revoked
    await api_keys.revoke_key(db=accounts.db, scope=ADMIN, key_id=revoked.key.id)
    # then only that one is refused
    assert_unauthenticated(await typename_as(anonymous, revoked))
    assert_served(await typename_as(anonymous, kept))


# ---------------------------------------------------------------- a good key


async def test_a_good_key_is_served_and_its_use_is_noted(
    anonymous: httpx.AsyncClient, accounts: Accounts, owner: UserRecord
) -> None:
    # given a new key, never used; someone guesses its secret wrong first
    key = await accounts.key(owner)
    guess = {"Authorization": f"Bearer {_wrong_secret(key.secret)}"}
    assert_unauthenticated(await anonymous.post("/graphql", json=TYPENAME, headers=guess))
    assert (await accounts.key_row(key))["last_used_at"] is None
    # when it is used
    response = await typename_as(anonymous, key)
    # then the request is served and the key records when it was used
    assert_served(response)
    row = await accounts.key_row(key)
    assert row["last_used_at"] is not None
    assert row["created_at"] <= row["last_used_at"] <= row["db_now"]


@pytest.mark.parametrize(
    ("last_used", "noted_again"),
    [("2 minutes", True), ("10 seconds", False)],
    ids=["used long ago: noted", "used just now: left alone"],
)
async def test_use_is_noted_at_most_once_a_minute(
    anonymous: httpx.AsyncClient,
    accounts: Accounts,
    owner_key: IssuedKey,
    last_used: str,
    noted_again: bool,
) -> None:
    # given a key last used some time ago
    await accounts.execute(
        f"UPDATE api_keys SET last_used_at = now() - interval '{last_used}' WHERE id = :id",
        id=owner_key.key.id,
    )
    before = (await accounts.key_row(owner_key))["last_used_at"]
    # when it is used again
    assert_served(await typename_as(anonymous, owner_key))
    # then its last use moves only when the one noted is over a minute old
    after = (await accounts.key_row(owner_key))["last_used_at"]
    assert (after > before) is noted_again
