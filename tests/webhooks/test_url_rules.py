"""Webhooks post only to public http(s) addresses: checked when saved and before each
delivery, unless CRM_WEBHOOK_ALLOW_PRIVATE allows private ones (as the tests' own server
and workers do)."""

import ipaddress

import pytest

from services.webhooks import url_safety
from services.webhooks.url_safety import UnsafeUrl, parse_target
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import (
    CREATE_WEBHOOK,
    UPDATE_WEBHOOK,
    Json,
    Receiver,
    RunWorker,
    create_lead,
    create_webhook,
    settled,
)

# example.com's address: public, so the session's server (private addresses refused)
# accepts it. Nothing is ever sent there: no worker runs in these tests.
PUBLIC_URL = "https://93.184.215.14/hooks/crm"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://user:secret@example.com/hook", "user name or password"),
        ("https://example.com/hook#part", "fragment"),
        ("https:///hook", "no host"),
        ("https://exa mple.com/", "spaces"),
        ("https://bad_host!.com/", "host name"),
        ("https://example.com:70000/", "not a valid URL"),
    ],
)
def test_a_url_of_another_kind_is_refused_whatever_it_resolves_to(url: str, problem: str) -> None:
    with pytest.raises(UnsafeUrl, match=problem):
        parse_target(url)


def test_a_url_keeps_its_path_query_and_port() -> None:
    target = parse_target("HTTPS://Example.COM:8443/a/b?x=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "example.com",
        8443,
        "/a/b?x=1",
    )
    assert target.host_header == "example.com:8443"
    assert target.url_for("93.184.215.14") == "https://93.184.215.14:8443/a/b?x=1"
    assert parse_target("http://[::1]/").url_for("::1") == "http://[::1]:80/"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not to bind
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # loopback, spelled as IPv6
        ("ff0e::1", False),  # global-scope multicast
    ],
)
def test_only_public_addresses_are_allowed(address: str, public: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert url_safety.address_allowed(ip, allow_private=False) is public
    assert url_safety.address_allowed(ip, allow_private=True) is True


@pytest.mark.parametrize(
    ("address", "public"),
    [
        # IPv4-mapped: the IPv4 address itself
        ("::ffff:169.254.169.254", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        # NAT64's well-known prefix: the IPv4 address behind the translator
        ("64:ff9b::a9fe:a9fe", False),  # 169.254.169.254, cloud metadata
        ("64:ff9b::7f00:1", False),  # 127.0.0.1
        ("64:ff9b::a00:1", False),  # 10.0.0.1
        ("64:ff9b::808:808", True),  # 8.8.8.8, as DNS64 gives it to IPv6-only networks
    ],
)
def test_an_ipv6_address_that_stands_for_an_ipv4_one_is_judged_as_that_address(
    address: str, public: bool
) -> None:
    ip = ipaddress.ip_address(address)
    assert url_safety.address_allowed(ip, allow_private=False) is public
    assert url_safety.address_allowed(ip, allow_private=True) is True


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "2002:808:808::1",  # 6to4 around 8.8.8.8
        "2001:0:7f00:1:0:0:f5ff:fffe",  # Teredo: server 127.0.0.1, client 10.0.0.1
        "2001:0:808:808:0:0:f7f7:f7f7",  # Teredo: server and client 8.8.8.8
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::a9fe:a9fe",
        "::8.8.8.8",
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT)
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64: where it holds IPv4 is up to the network
        "64:ff9b:1:808:8:800::",
        "fec0::1",  # site-local (deprecated)
        "2001:db8::1",  # documentation
        "3fff::1",
    ],
)
def test_tunnels_translations_and_deprecated_ipv6_ranges_are_refused_whatever_they_hold(
    address: str,
) -> None:
    ip = ipaddress.ip_address(address)
    assert url_safety.address_allowed(ip, allow_private=False) is False
    assert url_safety.address_allowed(ip, allow_private=True) is True


async def test_a_host_name_is_judged_by_what_it_resolves_to() -> None:
    # given a name that resolves to loopback
    target = parse_target("http://localhost:9/hook")
    # then it is refused, unless private addresses are allowed
    with pytest.raises(UnsafeUrl, match=r"resolves to 127\.0\.0\.1"):
        await url_safety.resolve(target, allow_private=False, lookup_seconds=5)
    assert await url_safety.resolve(target, allow_private=True, lookup_seconds=5) == "127.0.0.1"


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    target = parse_target("https://no-such-host.invalid/hook")
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        await url_safety.resolve(target, allow_private=True, lookup_seconds=5)


def _refusal(payload: Json) -> str:
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("VALIDATION_FAILED", ["input", "url"])
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[2002:7f00:1::]:8080/hook",
        "http://[fec0::1]/hook",
        "ftp://93.184.215.14/hook",
    ],
)
async def test_the_api_refuses_to_save_a_private_or_non_http_url(
    gql: GraphQLClient, url: str
) -> None:
    # when an admin of the session's server (private addresses not allowed) saves the URL
    payload = (
        await gql.data(CREATE_WEBHOOK, {"input": {"url": url, "eventTypes": ["LEAD_CREATED"]}})
    )["createWebhook"]
    # then it is refused at the URL, with the reason
    assert any(word in _refusal(payload) for word in ("private", "http:// or https://"))
    assert payload["webhook"] is None


async def test_the_api_refuses_to_change_a_url_to_a_private_one(gql: GraphQLClient) -> None:
    # given an endpoint at a public address
    webhook, _secret = await create_webhook(gql, PUBLIC_URL)
    # when it is pointed at loopback, then that is refused, and the URL stays
    payload = (
        await gql.data(
            UPDATE_WEBHOOK, {"input": {"webhookId": webhook["id"], "url": "http://127.0.0.1/"}}
        )
    )["updateWebhook"]
    assert "private" in _refusal(payload)
    listed = await gql.data("{ webhooks { url } }")
    assert listed["webhooks"] == [{"url": PUBLIC_URL}]


async def test_the_address_is_checked_again_before_each_delivery(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint on loopback, saved while private addresses were allowed
    await create_webhook(admin, receiver.endpoint())
    await create_lead(admin)
    # when a worker that refuses private addresses delivers
    async with run_worker(allow_private_addresses=False, max_attempts=1):
        [delivery] = await settled(admin, 1)
    # then nothing was sent, and the delivery failed saying why
    assert receiver.received == []
    assert delivery["status"] == "FAILED"
    assert delivery["lastResponseStatus"] is None
    assert delivery["lastError"].startswith("Not sent: ")
    assert "private" in delivery["lastError"]


async def test_a_redirect_is_not_followed(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint that answers with a redirect
    await create_webhook(admin, receiver.endpoint())
    receiver.failing, receiver.failure_status = True, 307
    await create_lead(admin)
    # when the worker delivers
    async with run_worker(max_attempts=1):
        [delivery] = await settled(admin, 1)
    # then it made one request, did not follow, and counts it as a failure
    assert len(receiver.received) == 1
    assert (delivery["status"], delivery["lastResponseStatus"]) == ("FAILED", 307)
    assert "redirects are not followed" in delivery["lastError"]
