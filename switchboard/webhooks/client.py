"""Sends one webhook attempt and reports what happened, never raising for the receiver.

One long-lived ``aiohttp.ClientSession`` (keep-alive to busy endpoints) with:

* no redirects: a 3xx is a failed attempt (following one would send a signed event
  somewhere the customer did not configure);
* SSRF guard on every connection (:mod:`.urlguard`), no proxies from the environment,
  no cookies kept between receivers;
* a deadline (default 2 s) from sending until the status line and headers arrive; the
  response body is read only within what is left of it and only up to a cap, so a
  receiver streaming megabytes cannot hold a worker or fill memory;
* a concurrency bound per destination host and overall, taken *before* the deadline
  starts, so waiting for a slot never turns into a false timeout.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from switchboard.webhooks.urlguard import (
    BlockedAddressError,
    GuardedResolver,
    WebhookURLError,
    check_address,
    guarded_socket_factory,
    validate_webhook_url,
)

ErrorKind = Literal[
    "timeout",
    "connection_refused",
    "connection_reset",
    "redirect_not_followed",
    "http_status",
    "ssrf_blocked",
    "dns_error",
    "tls_error",
    "protocol_error",
    "invalid_url",
    "connection_error",
]

DEFAULT_TIMEOUT = 2.0
DEFAULT_PER_HOST_LIMIT = 16
DEFAULT_TOTAL_LIMIT = 256
DEFAULT_MAX_BODY_BYTES = 16 * 1024
DEFAULT_MAX_HEADER_BYTES = 10 * 1024
DEFAULT_USER_AGENT = "switchboard-webhooks/1"
CHECKED_URLS = 10_000  # URLs remembered as checked (all forgotten when full)


@dataclass(frozen=True)
class AttemptResult:
    """Outcome of one POST, shaped for the ``attempts[]`` record of a delivery."""

    url: str
    status: int | None  # None: no response (timeout, connection error, blocked)
    error: ErrorKind | None  # None exactly when the attempt succeeded
    detail: str | None  # human-readable cause of ``error``
    started_at: datetime
    finished_at: datetime
    elapsed_ms: int
    request_headers: tuple[tuple[str, str], ...]
    response_headers: tuple[tuple[str, str], ...]
    response_body: str
    body_truncated: bool  # the receiver sent more than the cap (or did not finish in time)

    @property
    def ok(self) -> bool:
        """A 2xx within the deadline."""
        return self.error is None and self.status is not None and 200 <= self.status < 300


class _HostLimiter:
    """A semaphore per host, dropped when nobody holds or waits for it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        sem, users = self._slots.get(host, (None, 0))
        if sem is None:
            sem = asyncio.Semaphore(self._limit)
        self._slots[host] = (sem, users + 1)
        try:
            async with sem:
                yield
        finally:
            sem, users = self._slots[host]
            if users <= 1:
                del self._slots[host]
            else:
                self._slots[host] = (sem, users - 1)

    def __len__(self) -> int:
        return len(self._slots)


class WebhookClient:
    """Shared sender for all webhook attempts of one process.

    Create it anywhere; the session is opened on first use inside the running loop.
    Close it with :meth:`close` (or use ``async with``).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        per_host_limit: int = DEFAULT_PER_HOST_LIMIT,
        total_limit: int = DEFAULT_TOTAL_LIMIT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        user_agent: str = DEFAULT_USER_AGENT,
        resolver: AbstractResolver | None = None,
    ) -> None:
        if per_host_limit < 1 or total_limit < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.allow_private = allow_private
        self._max_body = max_body_bytes
        self._max_headers = max_header_bytes
        self._user_agent = user_agent
        self._inner_resolver = resolver
        self._hosts = _HostLimiter(per_host_limit)
        self._checked: dict[str, tuple[URL, str]] = {}
        self._total_limit = total_limit
        self._total: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None

    def _ensure_session(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,  # bounded by our own semaphores, taken before the deadline
                resolver=GuardedResolver(
                    allow_private=self.allow_private, inner=self._inner_resolver
                ),
                socket_factory=guarded_socket_factory(allow_private=self.allow_private),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._total = asyncio.Semaphore(self._total_limit)
        assert self._total is not None
        return self._session, self._total

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WebhookClient:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def request_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """What is sent: defaults (JSON, user agent, no compression) under ``headers``."""
        merged = {
            "Content-Type": "application/json",
            "User-Agent": self._user_agent,
            "Accept-Encoding": "identity",
        }
        lowered = {k.lower(): k for k in merged}
        for name, value in headers.items():
            existing = lowered.get(name.lower())
            if existing is not None:
                del merged[existing]
            merged[name] = value
        return merged

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AttemptResult:
        """POST ``body`` to ``url``; every outcome comes back as an :class:`AttemptResult`."""
        sent = self.request_headers(headers)
        sent_pairs = tuple(sent.items())
        started = datetime.now(UTC)
        t0 = time.monotonic()

        def fail(kind: ErrorKind, detail: str) -> AttemptResult:
            return AttemptResult(
                url=url,
                status=None,
                error=kind,
                detail=detail,
                started_at=started,
                finished_at=datetime.now(UTC),
                elapsed_ms=int((time.monotonic() - t0) * 1000),
                request_headers=sent_pairs,
                response_headers=(),
                response_body="",
                body_truncated=False,
            )

        try:
            target, host = self._checked_target(url)
        except WebhookURLError as exc:
            return fail("invalid_url", str(exc))
        except BlockedAddressError as exc:
            return fail("ssrf_blocked", str(exc))

        session, total = self._ensure_session()
        async with self._hosts.hold(host), total:
            started = datetime.now(UTC)
            t0 = time.monotonic()
            deadline = t0 + timeout
            try:
                async with asyncio.timeout(timeout):
                    resp = await session.post(
                        target, data=body, headers=sent, allow_redirects=False
                    )
            except Exception as exc:  # every failure is a result, not an exception
                return fail(*classify_error(exc, timeout))
            try:
                raw, truncated, note = await self._read_capped(resp, deadline)
            finally:
                if resp.content.at_eof():
                    resp.release()
                else:
                    resp.close()  # drop the connection rather than drain a huge body

        status = resp.status
        error: ErrorKind | None = None
        detail: str | None = note
        if 300 <= status < 400:
            error = "redirect_not_followed"
            location = resp.headers.get("Location")
            detail = f"HTTP {status} redirect not followed" + (
                f" (Location: {location})" if location else ""
            )
        elif not 200 <= status < 300:
            error = "http_status"
            detail = f"HTTP {status}"
        return AttemptResult(
            url=url,
            status=status,
            error=error,
            detail=detail,
            started_at=started,
            finished_at=datetime.now(UTC),
            elapsed_ms=int((time.monotonic() - t0) * 1000),
            request_headers=sent_pairs,
            response_headers=self._capped_headers(resp),
            response_body=raw.decode("utf-8", errors="replace"),
            body_truncated=truncated,
        )

    def _checked_target(self, url: str) -> tuple[URL, str]:
        """The URL parsed, and its host, once it passed the checks that need no lookup.

        A URL that passed is remembered (every delivery to one receiver sends to the same
        URLs); addresses a name resolves to are checked at each connection regardless.
        """
        found = self._checked.get(url)
        if found is not None:
            return found
        validate_webhook_url(url)
        target = URL(url)
        host = (target.host or "").lower()
        if _is_ip_literal(host):
            check_address(host, allow_private=self.allow_private)
        if len(self._checked) >= CHECKED_URLS:
            self._checked.clear()
        self._checked[url] = (target, host)
        return target, host

    async def _read_capped(
        self, resp: aiohttp.ClientResponse, deadline: float
    ) -> tuple[bytes, bool, str | None]:
        """Up to ``max_body_bytes`` of the body, within the time left before ``deadline``.

        The status already decided the attempt; a body that is too long, too slow or
        broken only shortens what is recorded.
        """
        if resp.content.is_eof() and not resp.content.exception():
            # The whole body arrived with the headers (the usual short answer): take it
            # without arming a timer.
            data = resp.content.read_nowait()
            if len(data) > self._max_body:
                return data[: self._max_body], True, f"body cut at {self._max_body} bytes"
            return data, False, None
        chunks: list[bytes] = []
        size = 0
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"", not resp.content.at_eof(), "body not read: deadline reached"
        try:
            async with asyncio.timeout(remaining):
                while size <= self._max_body:
                    chunk = await resp.content.read(self._max_body + 1 - size)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
        except TimeoutError:
            data = b"".join(chunks)[: self._max_body]
            return data, True, "body not complete within the deadline"
        except (aiohttp.ClientError, OSError) as exc:
            data = b"".join(chunks)[: self._max_body]
            return data, True, f"body read failed: {exc}"
        data = b"".join(chunks)
        if len(data) > self._max_body:
            return data[: self._max_body], True, f"body cut at {self._max_body} bytes"
        return data, False, None

    def _capped_headers(self, resp: aiohttp.ClientResponse) -> tuple[tuple[str, str], ...]:
        kept: list[tuple[str, str]] = []
        used = 0
        for name, value in resp.headers.items():
            used += len(name) + len(value) + 4
            if used > self._max_headers:
                break
            kept.append((name, value))
        return tuple(kept)

    def tracked_hosts(self) -> int:
        """Hosts with a request in flight or waiting (for metrics and tests)."""
        return len(self._hosts)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (``os_error``) and its chain, without repeats."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        if isinstance(item, aiohttp.ClientConnectorError):
            todo.append(item.os_error)
        todo.extend([item.__cause__, item.__context__])
    return seen


def classify_error(exc: BaseException, timeout: float) -> tuple[ErrorKind, str]:
    """Map a sending failure to an :data:`ErrorKind` and a readable detail."""
    chain = _causes(exc)
    if any(isinstance(e, BlockedAddressError) for e in chain) or any(
        "ssrf blocked" in str(e) for e in chain
    ):
        blocked = next((e for e in chain if "ssrf blocked" in str(e)), exc)
        return "ssrf_blocked", str(blocked)
    if isinstance(exc, TimeoutError):
        return "timeout", f"no response within {timeout:g} s"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid_url", f"invalid URL: {exc}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "tls_error", f"TLS error: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns_error", f"host not found: {exc.host}"
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return "connection_refused", "connection refused"
    for e in chain:
        if isinstance(e, (ConnectionResetError, BrokenPipeError)) or (
            isinstance(e, OSError) and e.errno in (errno.ECONNRESET, errno.EPIPE)
        ):
            return "connection_reset", "connection reset by peer"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection_reset", "server closed the connection without a response"
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError)):
        return "protocol_error", f"invalid HTTP response: {exc}"
    return "connection_error", f"{type(exc).__name__}: {exc}"
