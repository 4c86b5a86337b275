"""The addresses the app is served under (the DNS-rebinding guard's allow-list, and the only
source of the domains a Sign-In with Ethereum message may name).

A loopback name (localhost, *.localhost, 127.0.0.0/8, [::1], any port), the IP address and port
the connection arrived at (the app's own socket, or A1111's, which the proxy reports), or a
configured URL: `Settings.public_urls` (the user's) and `Settings.host_urls` (the A1111 host glue's).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("movieminter.security")

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Address:
    """One address the app is served under. `port` None: the scheme's default (any default port when
    `scheme` is None too); `scheme` None: http or https."""

    host: str
    port: int | None
    scheme: str | None
    source: str  # loopback | socket | configured | a1111

    def matches(self, host: str, port: int | None) -> bool:
        if host != self.host:
            return False
        if self.source == "loopback":
            return True
        if port == self.port:
            return True
        defaults = [DEFAULT_PORTS[self.scheme]] if self.scheme else list(DEFAULT_PORTS.values())
        if port is None:  # the browser's URL had no port: the scheme's default
            return self.port in defaults
        return self.port is None and port in defaults

    def schemes(self) -> tuple[str, ...]:
        return (self.scheme,) if self.scheme else ("http", "https")


@dataclass(frozen=True)
class RequestHost:
    """What the middleware established about a request: the host the browser addressed (validated),
    the local address the connection reached, the configured address that matched, and whether it
    came through the A1111 proxy."""

    host: str
    server: tuple | None
    address: Address
    proxied: bool


_AUTHORITY = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$")


def _norm_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def split_authority(authority: str) -> tuple[str, int | None] | None:
    """("host", port or None) of a Host header / SIWE domain, or None when it is not one."""
    authority = (authority or "").strip().lower()
    if not _AUTHORITY.match(authority):
        return None
    try:
        parts = urlsplit("//" + authority)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    return (_norm_host(host), port) if host else None


def parse_address(entry: str, source: str = "configured") -> Address | None:
    """A configured address: "https://mm.example.org", "http://box:7870/anything" or "box:7870"."""
    entry = entry.strip()
    if "://" in entry:
        try:
            parts = urlsplit(entry)
            scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        except ValueError:
            return None
        if scheme not in DEFAULT_PORTS or not host:
            return None
        return Address(_norm_host(host), port or DEFAULT_PORTS[scheme], scheme, source)
    hp = split_authority(entry.rstrip("/"))
    return Address(hp[0], hp[1], None, source) if hp else None


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: never resolved through DNS
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_address(server) -> tuple[str, int] | None:
    """The (host, port) of the local socket, from the ASGI scope or the proxy's header "ip:port"."""
    if isinstance(server, str):
        hp = split_authority(server)
        return (hp[0], hp[1]) if hp and hp[1] else None
    if server and len(server) == 2 and server[0] and server[1]:
        return (_norm_host(str(server[0])), int(server[1]))
    return None


class ServedHosts:
    """The addresses the app is served under. Built from configuration only, never from a request:
    `Settings.public_urls` (the user's) and `Settings.host_urls` (the A1111 host glue's), plus
    loopback names and the socket address the connection arrived at."""

    def __init__(self, configured: list[Address] | None = None):
        self.configured = list(configured or [])

    @classmethod
    def from_settings(cls, settings) -> ServedHosts:
        found: list[Address] = []
        for source, value in (
            ("configured", getattr(settings, "public_urls", "")),
            ("a1111", getattr(settings, "host_urls", "")),
        ):
            for entry in re.split(r"[,\s]+", value or ""):
                if not entry:
                    continue
                address = parse_address(entry, source)
                if address is None:
                    log.warning(
                        "ignoring %r in the addresses Movie Minter is served under: not a URL or host[:port]", entry
                    )
                else:
                    found.append(address)
        return cls(found)

    def find(self, authority: str, server=None) -> Address | None:
        """The address `authority` (a Host header or a SIWE domain) names, or None when the app is
        not served there. `server` is the local socket address the connection arrived at."""
        hp = split_authority(authority)
        if hp is None:
            return None
        host, port = hp
        if is_loopback(host):
            return Address(host, None, None, "loopback")
        for address in self.configured:
            if address.matches(host, port):
                return address
        local = server_address(server)
        if local is not None:
            socket_address = Address(local[0], local[1], None, "socket")
            if socket_address.matches(host, port):
                return socket_address
        return None
