"""Users and API keys over HTTP: what an admin manages, and what each key may then do."""

import hashlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.database import create_engine
from tests.api.operations import CREATE_LEAD, Json, codes, ok
from tests.conftest import (
    TEST_ADMIN_EMAIL,
    GraphQLClient,
    LiveServer,
    StatementCounter,
    bearer,
)

DOMAIN = "access.test"  # every user these tests create has an e-mail here; see _forget

USER_FIELDS = "id email name role active createdAt"
KEY_FIELDS = f"id name prefix expiresAt revokedAt lastUsedAt createdAt user {{ {USER_FIELDS} }}"

ME = f"{{ me {{ {USER_FIELDS} }} }}"
USERS = f"{{ users {{ {USER_FIELDS} }} }}"
API_KEYS = f"{{ apiKeys {{ {KEY_FIELDS} }} }}"
LEADS = "{ leads(first: 1) { totalCount } }"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
ERRORS = "userErrors { code message field }"
CREATE_USER = f"""
mutation($input: CreateUserInput!) {{
  createUser(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_USER_ROLE = f"""
mutation($input: UpdateUserRoleInput!) {{
  updateUserRole(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}
"""
DEACTIVATE_USER = f"""
mutation($input: DeactivateUserInput!) {{
  deactivateUser(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}
"""
CREATE_API_KEY = f"""
mutation($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{ secret apiKey {{ {KEY_FIELDS} }} {ERRORS} }}
}}
"""
REVOKE_API_KEY = f"""
mutation($input: RevokeApiKeyInput!) {{
  revokeApiKey(input: $input) {{ apiKey {{ {KEY_FIELDS} }} {ERRORS} }}
}}
"""

_emails = itertools.count(1)


def _email() -> str:
    return f"person{next(_emails)}@{DOMAIN}"


@pytest.fixture(autouse=True)
async def _forget(migrated: str) -> AsyncIterator[None]:
    """Users and keys outlive the pipeline's truncation: drop the ones these tests made
    (as the database's owner; the app's own role may not delete them)."""
    yield
    engine = create_engine(migrated, pool_size=1)
    made = {"made": f"%@{DOMAIN}"}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DELETE FROM api_keys WHERE name LIKE 'access-test%' OR user_id IN "
                "(SELECT id FROM users WHERE email LIKE :made)"
            ),
            made,
        )
        await conn.execute(text("DELETE FROM users WHERE email LIKE :made"), made)
    await engine.dispose()


Connect = Callable[[str], Awaitable[GraphQLClient]]


@pytest.fixture
async def connect(live_server: LiveServer) -> AsyncIterator[Connect]:
    """`await connect(secret)`: a client that sends this API key."""
    clients: list[httpx.AsyncClient] = []

    async def client_for(secret: str) -> GraphQLClient:
        client = httpx.AsyncClient(base_url=live_server.url, timeout=30, headers=bearer(secret))
        clients.append(client)
        return GraphQLClient(client)

    yield client_for
    for client in clients:
        await client.aclose()


async def _mutate(gql: GraphQLClient, operation: str, name: str, input: Json) -> Json:
    body = await gql(operation, {"input": input})
    assert "errors" not in body, body["errors"]
    payload: Json = body["data"][name]
    return payload


async def create_user(gql: GraphQLClient, role: str = "VIEWER", **fields: Any) -> Json:
    values = {"email": _email(), "role": role, **fields}
    user: Json = ok(await _mutate(gql, CREATE_USER, "createUser", values))["user"]
    return user


async def create_key(gql: GraphQLClient, user_id: str | None = None, **fields: Any) -> Json:
    """createApiKey's payload (the key and its secret) for `user_id`, default the caller."""
    values = {"name": "access-test key", **fields}
    if user_id is not None:
        values["userId"] = user_id
    return await _mutate(gql, CREATE_API_KEY, "createApiKey", values)


async def user_with_key(gql: GraphQLClient, connect: Connect, role: str) -> tuple[Json, Json]:
    """A new user of `role`, and a client authenticated with a new key of theirs. Keys
    for an admin are made before the promotion: nobody mints keys for another admin."""
    user = await create_user(gql, "MANAGER" if role == "ADMIN" else role)
    issued = ok(await create_key(gql, user["id"]))
    if role == "ADMIN":
        variables = {"userId": user["id"], "role": "ADMIN"}
        user = ok(await _mutate(gql, UPDATE_USER_ROLE, "updateUserRole", variables))["user"]
    return user, {"client": await connect(issued["secret"]), **issued}


async def _status(live_server: LiveServer, secret: str) -> int:
    async with httpx.AsyncClient(base_url=live_server.url, headers=bearer(secret)) as client:
        response = await client.post("/graphql", json={"query": "{ me { id } }"})
    return response.status_code


async def _key_ids(gql: GraphQLClient) -> list[str]:
    return [key["id"] for key in (await gql.data(API_KEYS))["apiKeys"]]


def _error_codes(body: Json) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


# ---------------------------------------------------------------- users and their keys


async def test_an_admin_creates_a_user_whose_key_acts_with_the_users_role(
    gql: GraphQLClient, connect: Connect
) -> None:
    # given an admin
    # when they create a viewer, then a key for that viewer
    viewer = await create_user(gql, "VIEWER", email=" Vera@ACCESS.test ", name="Vera")
    issued = ok(await create_key(gql, viewer["id"], name="access-test reporting"))
    as_viewer = await connect(issued["secret"])

    # then the user is active, lower-cased and a viewer; the key is theirs
    assert {k: viewer[k] for k in ("email", "name", "role", "active")} == {
        "email": "vera@access.test",
        "name": "Vera",
        "role": "VIEWER",
        "active": True,
    }
    key = issued["apiKey"]
    assert key["user"] == viewer
    assert (key["name"], key["revokedAt"], key["expiresAt"]) == (
        "access-test reporting",
        None,
        None,
    )
    # and the key acts as the viewer: it reads, but may not create a lead
    assert (await as_viewer.data(ME))["me"] == viewer
    assert (await as_viewer.data(LEADS))["leads"]["totalCount"] == 0
    refused = await as_viewer(CREATE_LEAD, {"input": {"name": "Ada", "source": "REFERRAL"}})
    assert refused["data"] is None
    assert _error_codes(refused) == ["FORBIDDEN"]
    assert (await gql.data(LEADS))["leads"]["totalCount"] == 0


# What each role's key may do: read leads (READ), create a lead (WORK_LEADS), list users
# (MANAGE_ACCESS).
ROLE_OPERATIONS = {
    "read leads": (LEADS, None),
    "create a lead": (CREATE_LEAD, {"input": {"name": "Ada", "source": "REFERRAL"}}),
    "list users": (USERS, None),
}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("VIEWER", {"read leads"}),
        ("SALES", {"read leads"}),
        ("MANAGER", {"read leads", "create a lead"}),
        ("ADMIN", {"read leads", "create a lead", "list users"}),
    ],
)
async def test_a_key_may_do_what_its_users_role_grants(
    gql: GraphQLClient, connect: Connect, role: str, allowed: set[str]
) -> None:
    # given a key of a user with this role
    _, key = await user_with_key(gql, connect, role)
    for what, (operation, variables) in ROLE_OPERATIONS.items():
        # when it tries each operation
        body = await key["client"](operation, variables)
        # then only what the role grants runs; the rest is FORBIDDEN
        expected = [] if what in allowed else ["FORBIDDEN"]
        assert _error_codes(body) == expected, (role, what)


async def test_a_new_role_applies_to_the_keys_next_request(
    gql: GraphQLClient, connect: Connect
) -> None:
    # given a viewer's key, refused a new lead
    viewer, key = await user_with_key(gql, connect, "VIEWER")
    new_lead = {"input": {"name": "Ada", "source": "REFERRAL"}}
    assert _error_codes(await key["client"](CREATE_LEAD, new_lead)) == ["FORBIDDEN"]

    # when an admin makes the viewer a manager
    payload = await _mutate(
        gql, UPDATE_USER_ROLE, "updateUserRole", {"userId": viewer["id"], "role": "MANAGER"}
    )

    # then the same key may create leads at once
    assert ok(payload)["user"]["role"] == "MANAGER"
    created = await key["client"](CREATE_LEAD, new_lead)
    assert _error_codes(created) == []
    assert created["data"]["createLead"]["lead"]["name"] == "Ada"


# ---------------------------------------------------------------- keys stop working


async def test_a_revoked_key_is_refused_at_once(
    gql: GraphQLClient, connect: Connect, live_server: LiveServer
) -> None:
    # given a working key
    _, key = await user_with_key(gql, connect, "VIEWER")
    assert await _status(live_server, key["secret"]) == 200

    # when an admin revokes it
    payload = await _mutate(gql, REVOKE_API_KEY, "revokeApiKey", {"apiKeyId": key["apiKey"]["id"]})

    # then it is marked revoked, and its very next request is 401
    assert ok(payload)["apiKey"]["revokedAt"] is not None
    assert await _status(live_server, key["secret"]) == 401


async def test_a_deactivated_users_keys_are_all_refused(
    gql: GraphQLClient, connect: Connect, live_server: LiveServer
) -> None:
    # given a user with two working keys
    user, first = await user_with_key(gql, connect, "MANAGER")
    second = ok(await create_key(gql, user["id"]))
    assert [await _status(live_server, k["secret"]) for k in (first, second)] == [200, 200]

    # when an admin deactivates the user
    payload = await _mutate(gql, DEACTIVATE_USER, "deactivateUser", {"userId": user["id"]})

    # then the user is inactive, and both keys are 401; no new key can be issued for them
    assert ok(payload)["user"]["active"] is False
    assert [await _status(live_server, k["secret"]) for k in (first, second)] == [401, 401]
    assert codes(await create_key(gql, user["id"])) == ["VALIDATION_FAILED"]


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("operation", "name", "extra"),
    [
        (UPDATE_USER_ROLE, "updateUserRole", {"role": "VIEWER"}),
        (DEACTIVATE_USER, "deactivateUser", {}),
    ],
    ids=["own-role", "deactivate-self"],
)
async def test_nobody_changes_their_own_access(
    gql: GraphQLClient, operation: str, name: str, extra: Json
) -> None:
    # given the admin's own user ID
    before = (await gql.data(ME))["me"]
    # when the admin applies the change to themselves
    payload = await _mutate(gql, operation, name, {"userId": before["id"], **extra})
    # then it is FORBIDDEN at userId, and the admin is unchanged
    assert payload["user"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", ["input", "userId"])
    ]
    assert (await gql.data(ME))["me"] == before


async def test_an_email_is_taken_once_whatever_its_case(gql: GraphQLClient) -> None:
    # given a user
    first = await create_user(gql)
    # when another is created with the same e-mail in other case and padding
    payload = await _mutate(
        gql, CREATE_USER, "createUser", {"email": f" {first['email'].upper()} ", "role": "ADMIN"}
    )
    # then it is VALIDATION_FAILED at email, and only the first exists
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("VALIDATION_FAILED", ["input", "email"])
    ]
    emails = [u["email"] for u in (await gql.data(USERS))["users"]]
    assert emails.count(first["email"]) == 1


ADMIN_ONLY = [
    pytest.param(USERS, None, "users", id="users"),
    pytest.param(API_KEYS, None, "apiKeys", id="apiKeys"),
    pytest.param(
        CREATE_USER,
        {"input": {"email": f"sneaky@{DOMAIN}", "role": "ADMIN"}},
        "createUser",
        id="createUser",
    ),
    pytest.param(
        CREATE_API_KEY, {"input": {"name": "access-test mine"}}, "createApiKey", id="createApiKey"
    ),
]


@pytest.mark.parametrize(("operation", "variables", "field"), ADMIN_ONLY)
async def test_a_manager_may_not_manage_access(
    gql: GraphQLClient,
    connect: Connect,
    operation: str,
    variables: Json | None,
    field: str,
) -> None:
    # given a manager's key
    _, key = await user_with_key(gql, connect, "MANAGER")
    users_before = (await gql.data(USERS))["users"]
    keys_before = await _key_ids(gql)
    # when the manager calls a field that needs MANAGE_ACCESS
    body = await key["client"](operation, variables)
    # then it is FORBIDDEN, at that field, and nothing changed
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("FORBIDDEN", [field])
    ]
    assert (await gql.data(USERS))["users"] == users_before
    assert await _key_ids(gql) == keys_before


NO_SUCH_USER = "VXNlcjo5ODc2NTQ"  # "User:987654"


@pytest.mark.parametrize(
    ("user_id", "code"),
    [
        pytest.param("a lead's ID", "VALIDATION_FAILED", id="a-lead-id"),
        pytest.param("not-an-id", "VALIDATION_FAILED", id="garbage"),
        pytest.param(NO_SUCH_USER, "NOT_FOUND", id="no-such-user"),
    ],
)
async def test_a_user_id_must_name_a_user_of_the_tenant(
    gql: GraphQLClient, user_id: str, code: str
) -> None:
    # given an ID that names no user
    if user_id == "a lead's ID":
        lead = await _mutate(gql, CREATE_LEAD, "createLead", {"name": "Ada", "source": "REFERRAL"})
        user_id = lead["lead"]["id"]
    attempts = [
        (UPDATE_USER_ROLE, "updateUserRole", {"userId": user_id, "role": "VIEWER"}),
        (DEACTIVATE_USER, "deactivateUser", {"userId": user_id}),
        (CREATE_API_KEY, "createApiKey", {"userId": user_id, "name": "access-test key"}),
    ]
    for operation, name, input in attempts:
        # when a mutation is given it as userId
        payload = await _mutate(gql, operation, name, input)
        # then it is refused at userId
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            (code, ["input", "userId"])
        ], name


# ---------------------------------------------------------------- the secret


async def test_the_secret_is_shown_once_and_never_listed(
    gql: GraphQLClient, connect: Connect
) -> None:
    # when an admin creates a key for themselves
    issued = ok(await create_key(gql))
    secret, key = issued["secret"], issued["apiKey"]

    # then the secret is the whole key: it starts with the prefix, and it works
    assert secret.startswith(f"crm_{key['prefix']}_")
    assert key["user"]["email"] == TEST_ADMIN_EMAIL
    assert (await (await connect(secret)).data(ME))["me"]["email"] == TEST_ADMIN_EMAIL
    # and apiKeys lists the key by prefix, with neither the secret nor its hash anywhere
    listing = await gql(API_KEYS)
    listed = next(k for k in listing["data"]["apiKeys"] if k["id"] == key["id"])
    assert listed["prefix"] == key["prefix"]
    raw = str(listing)
    assert secret not in raw
    assert secret.rpartition("_")[2] not in raw
    assert hashlib.sha256(secret.encode()).hexdigest() not in raw


async def test_an_api_key_has_no_field_that_could_reveal_its_secret(gql: GraphQLClient) -> None:
    # when the ApiKey type is introspected
    found = await gql.data('{ __type(name: "ApiKey") { fields { name } } }')
    # then its fields are exactly the public ones
    assert {f["name"] for f in found["__type"]["fields"]} == {
        "id",
        "name",
        "prefix",
        "user",
        "expiresAt",
        "revokedAt",
        "lastUsedAt",
        "createdAt",
    }


@pytest.mark.parametrize(
    ("expires_at", "code"),
    [
        ("2000-01-01T00:00:00+00:00", "VALIDATION_FAILED"),
        ("2000-01-01T00:00:00", "VALIDATION_FAILED"),  # no offset: read as UTC
        ("2999-01-01T00:00:00+00:00", None),
    ],
)
async def test_an_expiry_must_be_in_the_future(
    gql: GraphQLClient, expires_at: str, code: str | None
) -> None:
    # when a key is created with this expiry
    payload = await create_key(gql, expiresAt=expires_at)
    # then a past one is refused at expiresAt; a future one is kept
    if code is None:
        assert ok(payload)["apiKey"]["expiresAt"].startswith("2999-01-01T00:00:00")
    else:
        assert (payload["apiKey"], payload["secret"]) == (None, None)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            (code, ["input", "expiresAt"])
        ]


# ---------------------------------------------------------------- reading identities


async def test_node_shows_users_and_keys_to_admins_and_to_their_own_user(
    gql: GraphQLClient, connect: Connect
) -> None:
    # given two viewers, each with a key
    first, first_key = await user_with_key(gql, connect, "VIEWER")
    second, second_key = await user_with_key(gql, connect, "VIEWER")
    seen_by_first = {
        first["id"]: True,
        first_key["apiKey"]["id"]: True,
        second["id"]: False,
        second_key["apiKey"]["id"]: False,
    }
    for global_id, first_sees in seen_by_first.items():
        # when the admin and the first viewer ask node() for it
        as_admin = (await gql.data(NODE, {"id": global_id}))["node"]
        as_first = (await first_key["client"].data(NODE, {"id": global_id}))["node"]
        # then the admin sees every user and key; a viewer only themselves and their keys
        assert as_admin["id"] == global_id
        assert (as_first is not None) == first_sees, global_id


async def test_api_keys_cost_the_same_statements_whatever_their_number_of_users(
    gql: GraphQLClient, connect: Connect, count_statements: StatementCounter
) -> None:
    async def statements_of_listing() -> tuple[int, int]:
        count_statements.count = 0
        keys = (await gql.data(API_KEYS))["apiKeys"]
        return len({k["user"]["id"] for k in keys}), count_statements.count

    # given keys of two users, then of five
    await user_with_key(gql, connect, "VIEWER")
    users_before, few = await statements_of_listing()
    for role in ("SALES", "MANAGER", "ADMIN"):
        await user_with_key(gql, connect, role)
    # when apiKeys is read with each key's user
    users_after, many = await statements_of_listing()
    # then the users of all keys are loaded together: more users cost no more statements
    assert (users_before, users_after) == (2, 5)
    assert many == few
