"""Where a webhook may point: a public http(s) address, and nothing inside our network.

A URL that the service posts to on an admin's say-so could otherwise reach what only the
server can reach (a database port, a cloud metadata endpoint, an admin page on
localhost). So: http or https only, no credentials or fragment, and every address the
host resolves to must be public: private, loopback, link-local, shared, reserved and
multicast ranges are refused unless CRM_WEBHOOK_ALLOW_PRIVATE is on (for tests and
closed networks). The check runs when an endpoint is saved and again before each
delivery, since DNS answers change; the sender then connects to the very address that
was checked, so a second lookup cannot swap it for another.
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
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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
