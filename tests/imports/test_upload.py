"""The file as a real multipart upload (the GraphQL multipart request spec), what a
malformed one gets (a 4xx with a clear message, never a 500), and who may import."""

import json

import httpx

from domain.access import Role
from settings import Settings
from tests.conftest import GraphQLClient, LiveServer, UserClient
from tests.imports.operations import IMPORT_LEADS, import_csv

CSV = b"name,source,email\nAda,partner,ada@example.com\nBob,website,\n"


def _operations(**input_fields: object) -> str:
    return json.dumps(
        {"query": IMPORT_LEADS, "variables": {"input": {"file": None, **input_fields}}}
    )


async def test_an_uploaded_file_is_imported(http: httpx.AsyncClient) -> None:
    # when the file is posted as multipart/form-data
    response = await http.post(
        "/graphql",
        data={"operations": _operations(), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("leads.csv", CSV, "text/csv")},
    )

    # then it is imported like inline text
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["importLeads"]
    assert payload["userErrors"] == []
    assert (payload["report"]["created"], payload["report"]["rowsRead"]) == (2, 2)


async def test_malformed_multipart_requests_get_a_clear_4xx(http: httpx.AsyncClient) -> None:
    file_map = json.dumps({"0": ["variables.input.file"]})
    files = {"0": ("leads.csv", CSV, "text/csv")}
    cases: list[tuple[dict[str, object], str]] = [
        ({"data": {"map": file_map}, "files": files}, "operations"),
        ({"data": {"operations": _operations()}, "files": files}, "map"),
        ({"data": {"operations": "{not json", "map": file_map}, "files": files}, "not valid JSON"),
        (
            {
                "data": {
                    "operations": _operations(),
                    "map": json.dumps({"1": ["variables.input.file"]}),
                },
                "files": files,
            },
            "no such file",
        ),
        (
            {
                "data": {"operations": _operations(), "map": json.dumps({"0": ["query"]})},
                "files": files,
            },
            "into `variables`",
        ),
        (
            {
                "data": {
                    "operations": _operations(),
                    "map": json.dumps({"0": ["variables.input.nope"]}),
                },
                "files": files,
            },
            "names nothing",
        ),
        (
            {
                "data": {
                    "operations": _operations(csv="x"),
                    "map": json.dumps({"0": ["variables.input.csv"]}),
                },
                "files": files,
            },
            "must point at a null",
        ),
    ]
    for request, message in cases:
        response = await http.post("/graphql", **request)  # type: ignore[arg-type]
        assert response.status_code == 400, (message, response.text)
        assert message in response.json()["errors"][0]["message"], response.text
    # a body that is not multipart at all, though it says so
    broken = await http.post(
        "/graphql",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code == 400, broken.text


async def test_a_file_over_the_upload_limit_is_refused_with_413(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.imports.max_bytes + settings.max_body_bytes
    response = await http.post(
        "/graphql",
        data={"operations": _operations(), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("big.csv", b"x" * (limit + 1), "text/csv")},
    )
    assert response.status_code == 413, response.text


async def test_a_file_given_as_text_variable_is_refused(gql: GraphQLClient) -> None:
    body = await gql(IMPORT_LEADS, {"input": {"file": "name,source\nAda,partner\n"}})
    errors = body["data"]["importLeads"]["userErrors"]
    assert errors[0]["field"] == ["input", "file"]


async def test_uploads_need_the_bearer_credential(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        response = await anonymous.post(
            "/graphql",
            data={"operations": _operations(), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": ("leads.csv", CSV, "text/csv")},
        )
    assert response.status_code == 401


async def test_managers_may_import_and_sales_and_viewers_may_not(
    gql_as: UserClient, gql: GraphQLClient
) -> None:
    manager = await gql_as("manager@example.com", Role.MANAGER)
    assert (await import_csv(manager, CSV.decode()))["report"]["created"] == 2
    for email, role in (("sales@example.com", Role.SALES), ("viewer@example.com", Role.VIEWER)):
        client = await gql_as(email, role)
        body = await client(IMPORT_LEADS, {"input": {"csv": "name,source\nEve,partner\n"}})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    leads = await gql.data("{ leads(first: 10) { edges { node { name } } } }")
    assert {edge["node"]["name"] for edge in leads["leads"]["edges"]} == {"Ada", "Bob"}
