"""URL form checks and the address policy. No traffic leaves loopback here."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from switchboard.webhooks.urlguard import (
    MAX_URL_LENGTH,
    BlockedAddressError,
    GuardedResolver,
    WebhookURLError,
    address_block_reason,
    check_address,
    classify_address,
    guarded_socket_factory,
    validate_webhook_url,
)

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/hooks/sms",
        "http://127.0.0.1:8080/hook",
        "https://[2001:db8::1]:8443/x?y=1",
        "https://user:pass@example.com/h",
    ],
)
def test_valid_urls(url: str) -> None:
    assert validate_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("ftp://example.com/x", "scheme 'ftp' is not allowed"),
        ("javascript:alert(1)", "scheme 'javascript' is not allowed"),
        ("example.com/hook", "no scheme"),
        ("https:///path-only", "no host"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/\x00", "control"),
        ("https://example.com:99999/", "(?i)port"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "limit is 2000"),
    ],
)
def test_invalid_urls(url: str, reason: str) -> None:
    with pytest.raises(WebhookURLError, match=reason):
        validate_webhook_url(url)


def test_url_of_exactly_2000_chars_is_accepted() -> None:
    url = "https://example.com/"
    url += "a" * (MAX_URL_LENGTH - len(url))
    assert validate_webhook_url(url) == url


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "global"),
        ("2606:4700:4700::1111", "global"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:8.8.8.8", "global"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:a00:1::1", "private"),
    ],
)
def test_classifier(address: str, kind: str) -> None:
    assert classify_address(address) == kind


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "::",
        "::ffff:10.0.0.1",
    ],
)
def test_production_refuses_non_public(address: str) -> None:
    assert address_block_reason(address, allow_private=False) is not None
    with pytest.raises(BlockedAddressError, match="ssrf blocked"):
        check_address(address, allow_private=False)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "fd00::1"])
def test_sandbox_allows_loopback_and_private(address: str) -> None:
    assert address_block_reason(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0", "::"])
def test_sandbox_still_refuses_the_rest(address: str) -> None:
    reason = address_block_reason(address, allow_private=True)
    assert reason is not None and address in reason


def test_public_allowed_everywhere() -> None:
    assert address_block_reason("8.8.8.8", allow_private=False) is None
    assert address_block_reason("8.8.8.8", allow_private=True) is None


def test_not_an_address() -> None:
    assert address_block_reason("example.com", allow_private=True) is not None


@pytest.mark.parametrize(
    ("family", "sockaddr"),
    [
        (socket.AF_INET, ("10.0.0.1", 80)),
        (socket.AF_INET, ("169.254.169.254", 80)),
        (socket.AF_INET, ("127.0.0.1", 80)),
        (socket.AF_INET6, ("::ffff:10.0.0.1", 80, 0, 0)),
    ],
)
def test_socket_factory_refuses_before_creating_a_socket(
    family: socket.AddressFamily, sockaddr: tuple[object, ...]
) -> None:
    factory = guarded_socket_factory(allow_private=False)
    with pytest.raises(BlockedAddressError):
        factory((family, socket.SOCK_STREAM, 6, "", sockaddr))


def test_socket_factory_allows_loopback_in_sandbox() -> None:
    factory = guarded_socket_factory(allow_private=True)
    sock = factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    try:
        assert sock.family == socket.AF_INET
    finally:
        sock.close()


class FakeResolver(AbstractResolver):
    """Answers from a table, as a hostile or rebinding DNS server could."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        return None


def test_guarded_resolver_filters_and_refuses() -> None:
    async def run() -> None:
        inner = FakeResolver(
            {
                "mixed.test": ["169.254.169.254", "127.0.0.1", "10.0.0.7"],
                "internal.test": ["10.0.0.7", "fe80::1"],
            }
        )
        sandbox = GuardedResolver(allow_private=True, inner=inner)
        hosts = [r["host"] for r in await sandbox.resolve("mixed.test", 80)]
        assert hosts == ["127.0.0.1", "10.0.0.7"]

        production = GuardedResolver(allow_private=False, inner=inner)
        with pytest.raises(BlockedAddressError, match=r"internal\.test resolves only"):
            await production.resolve("internal.test", 80)
        with pytest.raises(BlockedAddressError):
            await production.resolve("mixed.test", 80)

    asyncio.run(run())
