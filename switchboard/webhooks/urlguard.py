"""Webhook URL validation and SSRF protection.

Two separate moments:

* when a URL is configured (profile or send request): :func:`validate_webhook_url`
  checks its form and says what is wrong;
* when a request is about to go out: every address the client connects to passes
  :func:`address_block_reason`. Checking the *resolved* address, at connect time, is
  what stops a name that resolves to a public address at configuration time and to
  ``10.0.0.1`` later (DNS rebinding) and literal addresses written in odd forms.

``allow_private`` exists for the sandbox, where the developer's app runs on the same
machine or network: it lets loopback and private (RFC 1918, ULA, CGNAT) addresses
through. Link-local (cloud metadata lives at 169.254.169.254), multicast, reserved and
unspecified addresses are refused in every mode.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Literal

from aiohttp import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressClass = Literal[
    "global",
    "loopback",
    "private",
    "link-local",
    "multicast",
    "reserved",
    "unspecified",
    "non-global",
]

_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")  # CGNAT: private in practice
_ALLOWED_WITH_PRIVATE: frozenset[AddressClass] = frozenset({"global", "loopback", "private"})


class WebhookURLError(ValueError):
    """A webhook URL is unusable; the message says why."""


class BlockedAddressError(OSError):
    """A connection to a forbidden address was refused before any packet was sent."""


def validate_webhook_url(url: str) -> str:
    """Return ``url`` if it can be a webhook target, else raise :class:`WebhookURLError`.

    Form only (no DNS): http/https, a host, at most 2000 characters, a valid port.
    Literal IPs are not judged here; delivery applies the address policy.
    """
    if not isinstance(url, str) or not url:
        raise WebhookURLError("webhook URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookURLError(
            f"webhook URL is {len(url)} characters long; the limit is {MAX_URL_LENGTH}"
        )
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise WebhookURLError("webhook URL contains whitespace or control characters")
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise WebhookURLError(f"webhook URL cannot be parsed: {exc}") from None
    if not parsed.scheme:
        raise WebhookURLError("webhook URL has no scheme; use http:// or https://")
    if parsed.scheme not in ("http", "https"):
        raise WebhookURLError(
            f"webhook URL scheme {parsed.scheme!r} is not allowed; use http or https"
        )
    if not parsed.host:
        raise WebhookURLError("webhook URL has no host")
    try:
        port = parsed.port
    except ValueError as exc:
        raise WebhookURLError(f"webhook URL has an invalid port: {exc}") from None
    if port is not None and not 0 < port < 65536:
        raise WebhookURLError(f"webhook URL port {port} is out of range")
    return url


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_v4(addr: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, bool] | None:
    """IPv4 address carried inside an IPv6 one, and whether it *is* the destination.

    Mapped (``::ffff:a.b.c.d``) and NAT64 (``64:ff9b::a.b.c.d``) addresses reach the
    IPv4 host itself; 6to4 and Teredo only relay through it.
    """
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped, True
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF), True
    if addr.sixtofour is not None:
        return addr.sixtofour, False
    if addr.teredo is not None:
        return addr.teredo[1], False
    return None


def classify_address(address: str | IPAddress) -> AddressClass:
    """Which kind of address this is, judging any embedded IPv4 address too."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_v4(addr)
        if embedded is not None:
            inner, is_destination = embedded
            inner_class = classify_address(inner)
            if is_destination or inner_class != "global":
                return inner_class
        if addr.scope_id:
            return "link-local"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED_V4:
        return "private"
    if addr.is_reserved:
        return "reserved"
    if addr.is_private:
        # Python counts documentation, benchmarking and similar ranges as private too;
        # only the ranges real networks hand out get the sandbox exemption.
        if _is_lan(addr):
            return "private"
        return "reserved"
    if not addr.is_global:
        return "non-global"
    return "global"


_LAN_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def _is_lan(addr: IPAddress) -> bool:
    return any(addr.version == net.version and addr in net for net in _LAN_NETWORKS)


def address_block_reason(address: str | IPAddress, *, allow_private: bool) -> str | None:
    """Why a connection to ``address`` is refused, or ``None`` if it is allowed."""
    try:
        kind = classify_address(address)
    except ValueError:
        return f"{address!s} is not an IP address"
    if kind == "global":
        return None
    if allow_private and kind in _ALLOWED_WITH_PRIVATE:
        return None
    return f"{kind} address {address!s} is not allowed"


def check_address(address: str | IPAddress, *, allow_private: bool) -> None:
    """Raise :class:`BlockedAddressError` if ``address`` may not be connected to."""
    reason = address_block_reason(address, allow_private=allow_private)
    if reason is not None:
        raise BlockedAddressError(f"ssrf blocked: {reason}")


class GuardedResolver(AbstractResolver):
    """Resolver that drops forbidden addresses, failing when none remain.

    The connector caches what this returns, so a forbidden answer never reaches a
    socket. Literal IPs bypass resolvers in aiohttp; :func:`guarded_socket_factory`
    covers those and is the final check on every connect.
    """

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        reasons: list[str] = []
        for result in results:
            reason = address_block_reason(result["host"], allow_private=self._allow_private)
            if reason is None:
                allowed.append(result)
            else:
                reasons.append(reason)
        if not allowed:
            detail = "; ".join(reasons) or "no addresses"
            raise BlockedAddressError(
                f"ssrf blocked: {host} resolves only to forbidden addresses ({detail})"
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(*, allow_private: bool) -> SocketFactoryType:
    """Socket factory for ``aiohttp.TCPConnector``: checks the exact address dialled.

    Runs for every connection attempt, after any resolution and for literal IPs, so
    it is the one place nothing can bypass.
    """

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        check_address(str(sockaddr[0]), allow_private=allow_private)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory
