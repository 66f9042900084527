"""An unexpected exception is masked for the client (INTERNAL + request id), logged in full.

The failure is injected by replacing a resolver function for the length of one test:
the server runs in this process, so the live endpoint calls the replacement.
"""

import logging
from typing import Any, NoReturn

import httpx
import pytest

import web.graphql_http
from resolvers import pipeline
from resolvers.context import Info

SECRET = "password=hunter2 at db.internal:5432"
GQL_RESPONSE = {"accept": "application/graphql-response+json"}


class DatabaseExploded(RuntimeError):
    pass


async def exploding_resolver(_info: Info) -> NoReturn:
    raise DatabaseExploded(SECRET)


async def exploding_scope(*_args: Any) -> NoReturn:
    raise DatabaseExploded(SECRET)


@pytest.fixture
def failing_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "pipeline", exploding_resolver)


@pytest.mark.usefixtures("failing_pipeline")
async def test_a_resolver_exception_is_masked_with_the_request_id(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # given a resolver that raises something no one expected
    caplog.set_level(logging.ERROR, logger="web.graphql_http")
    # when a query reaches it
    body = {"query": "{ __typename pipeline { paidAmount } }"}
    response = await http.post("/graphql", json=body, headers=GQL_RESPONSE)
    # then the client gets an opaque INTERNAL error naming the request, and the rest of data
    assert response.status_code == 200
    payload = response.json()
    request_id = response.headers["x-request-id"]
    assert payload["data"] is None  # pipeline is non-null, so null spreads to the root
    [error] = payload["errors"]
    assert error["message"] == "Internal server error."
    assert error["path"] == ["pipeline"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    # and nothing of the exception leaks to it
    for leaked in (SECRET, "DatabaseExploded", "Traceback", "test_internal_errors"):
        assert leaked not in response.text
    # while the log has all of it, under the same request id
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], DatabaseExploded)
    assert SECRET in caplog.text


@pytest.mark.usefixtures("failing_pipeline")
async def test_the_callers_request_id_names_the_masked_error(http: httpx.AsyncClient) -> None:
    headers = {**GQL_RESPONSE, "x-request-id": "checkout-42"}
    response = await http.post(
        "/graphql", json={"query": "{ pipeline { paidAmount } }"}, headers=headers
    )
    assert response.headers["x-request-id"] == "checkout-42"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "checkout-42"


async def test_a_failure_outside_any_resolver_is_masked_too(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given the endpoint itself fails while finding out who is calling
    monkeypatch.setattr(web.graphql_http, "authenticate", exploding_scope)
    caplog.set_level(logging.ERROR, logger="web.graphql_http")
    # when any operation arrives
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=GQL_RESPONSE)
    # then it is not a 500 with a stack trace but a masked GraphQL error
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error.",
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
        ],
        "data": None,
    }
    assert SECRET in caplog.text
