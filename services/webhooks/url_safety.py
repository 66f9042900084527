"""Where a webhook may point: a public http(s) address, and nothing inside our network.

A URL that the service posts to on an admin's say-so could otherwise reach what only the
server can reach (a database port, a cloud metadata endpoint, an admin page on
localhost). So: http or https only, no credentials or fragment, and every address the
host resolves to must be public: private, loopback, link-local, shared, reserved and
multicast ranges are refused unless CRM_WEBHOOK_ALLOW_PRIVATE is on (for tests and
closed networks). The check runs when an endpoint is saved and again before each
delivery, since DNS answers change; the sender then connects to the very address that
was checked, so a second lookup cannot swap it for another.

IPv6 can spell an IPv4 address, and Python's `is_global` (3.11 before 3.11.10 most of
all) calls several such spellings global, so IPv6 gets rules of its own. An address that
stands for an IPv4 one is judged as that IPv4 address: IPv4-mapped ::ffff:a.b.c.d, and
NAT64's well-known prefix 64:ff9b::a.b.c.d (what a DNS64 resolver gives an IPv6-only
network for an IPv4-only host), so 64:ff9b::8.8.8.8 is allowed and
64:ff9b::169.254.169.254 is not. Every other IPv6 address must be public global unicast
(2000::/3), and not a tunnel that carries an IPv4 address of its own (6to4 2002::/16,
Teredo 2001::/32; both deprecated) nor documentation space. Those tunnels, and outside
2000::/3 the deprecated IPv4-compatible ::a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d, the
local-use NAT64 prefix 64:ff9b:1::/48 (where it holds the IPv4 address is each
network's choice) and site-local fec0::/10, are refused whatever IPv4 address they hold,
public or not: no receiver needs them, and the verdict then does not hang on which
Python release's `is_global` judges them.
"""

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
_SCHEMES = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9-]{1,63})*$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the IPv4 address in the last 32 bits
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Inside global unicast, yet no public host: tunnels to the IPv4 address they carry
# (6to4, Teredo) and documentation space, which older Pythons call global.
_NOT_PUBLIC_HOSTS = tuple(
    ipaddress.IPv6Network(network)
    for network in ("2002::/16", "2001::/32", "2001:db8::/32", "3fff::/20")
)


class UnsafeUrl(ValueError):
    """A URL webhooks may not use; the message says why, for the admin."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lower case, IDNA-encoded; an IPv6 address without brackets
    port: int
    path: str  # path and query, at least "/"

    @property
    def ip_literal(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if _SCHEMES[self.scheme] == self.port else f"{host}:{self.port}"

    def url_for(self, address: str) -> str:
        """This URL with the host replaced by an address it resolved to."""
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse_target(url: str) -> Target:
    """The parts of a URL webhooks may use; UnsafeUrl says what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise UnsafeUrl("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UnsafeUrl("Use an http:// or https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL must not carry a user name or password.")
    if parts.fragment:
        raise UnsafeUrl("The URL must not have a #fragment.")
    host = _host(parts.hostname or "")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port or _SCHEMES[scheme], path=path)


def _host(raw: str) -> str:
    if not raw:
        raise UnsafeUrl("The URL has no host.")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        pass
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeUrl("The URL's host is not a valid host name.") from None
    if not _HOST_NAME.match(host):
        raise UnsafeUrl("The URL's host is not a valid host name.")
    return host


def address_allowed(address: IPAddress, *, allow_private: bool) -> bool:
    """Public unicast addresses only, unless private ones are allowed."""
    if allow_private:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        return _ipv6_allowed(address)
    return _public(address)


def _ipv6_allowed(address: ipaddress.IPv6Address) -> bool:
    if address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    if address in _NAT64:
        return _public(ipaddress.IPv4Address(address.packed[-4:]))
    if address not in _GLOBAL_UNICAST or any(address in net for net in _NOT_PUBLIC_HOSTS):
        return False
    return _public(address)


def _public(address: IPAddress) -> bool:
    return address.is_global and not address.is_multicast


async def resolve(target: Target, *, allow_private: bool, lookup_seconds: float) -> str:
    """The address to connect to. Every address the host has must be allowed: one private
    address among public ones is refused, since the connection could go there."""
    literal = target.ip_literal
    if literal is not None:
        _check(literal, target.host, allow_private=allow_private)
        return str(literal)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(lookup_seconds):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise UnsafeUrl(f"The host name {target.host} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"The host name {target.host} does not resolve.")
    for address in addresses:
        _check(ipaddress.ip_address(address), target.host, allow_private=allow_private)
    return addresses[0]


def _check(address: IPAddress, host: str, *, allow_private: bool) -> None:
    if not address_allowed(address, allow_private=allow_private):
        named = "" if str(address) == host else f"{host} resolves to "
        raise UnsafeUrl(
            f"{named}{address} is a private, loopback or reserved address; webhooks go to "
            "public addresses only."
        )


async def check_url(url: str, *, allow_private: bool, lookup_seconds: float) -> str:
    """The URL, trimmed, if webhooks may post to it now; UnsafeUrl otherwise."""
    cleaned = url.strip()
    await resolve(parse_target(cleaned), allow_private=allow_private, lookup_seconds=lookup_seconds)
    return cleaned
