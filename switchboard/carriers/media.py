"""Fetching MMS media at send time, within strict limits and behind the SSRF guard.

Every connection goes through :mod:`switchboard.webhooks.urlguard` (resolved addresses are
checked at connect time, redirects included), bodies are read up to the message's remaining
size budget and no further, and only listed content types pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from switchboard.webhooks.urlguard import (
    BlockedAddressError,
    GuardedResolver,
    WebhookURLError,
    check_address,
    guarded_socket_factory,
    validate_webhook_url,
)

USER_AGENT = "Switchboard media fetcher"


@dataclass(frozen=True)
class FetchedMedia:
    url: str
    content_type: str
    size: int
    sha256: str


class MediaError(Exception):
    """A media URL could not be used. `temporary` failures may succeed on a later try."""

    def __init__(self, url: str, detail: str, *, temporary: bool = False) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail
        self.temporary = temporary


@dataclass(frozen=True)
class MediaLimits:
    max_total_bytes: int
    timeout: float
    max_redirects: int
    content_types: tuple[str, ...]
    allow_private: bool


class MediaFetcher:
    def __init__(self, limits: MediaLimits) -> None:
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self.limits.allow_private),
                socket_factory=guarded_socket_factory(allow_private=self.limits.allow_private),
                limit=32,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_all(self, urls: Sequence[str]) -> list[FetchedMedia]:
        """Fetch every URL in turn; their sizes together stay within the limit."""
        fetched: list[FetchedMedia] = []
        budget = self.limits.max_total_bytes
        for url in urls:
            item = await self.fetch(url, budget)
            budget -= item.size
            fetched.append(item)
        return fetched

    async def fetch(self, url: str, budget: int) -> FetchedMedia:
        try:
            async with asyncio.timeout(self.limits.timeout):
                return await self._fetch(url, budget)
        except TimeoutError:
            raise MediaError(
                url, f"not fetched within {self.limits.timeout:g} s", temporary=True
            ) from None

    async def _fetch(self, url: str, budget: int) -> FetchedMedia:
        session = self._ensure_session()
        target = url
        for _ in range(self.limits.max_redirects + 1):
            self._check_url(url, target)
            try:
                response = await session.get(URL(target, encoded=True), allow_redirects=False)
            except BlockedAddressError as exc:
                raise MediaError(url, str(exc)) from None
            except (aiohttp.ClientError, OSError) as exc:
                blocked = _blocked_cause(exc)
                if blocked is not None:
                    raise MediaError(url, str(blocked)) from None
                raise MediaError(url, f"connection failed: {exc}", temporary=True) from None
            async with response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise MediaError(url, f"HTTP {response.status} without a Location")
                    target = str(URL(target).join(URL(location)))
                    continue
                if response.status >= 500 or response.status == 429:
                    raise MediaError(url, f"answered HTTP {response.status}", temporary=True)
                if response.status != 200:
                    raise MediaError(url, f"answered HTTP {response.status}")
                content_type = self._content_type(url, response)
                declared = response.content_length
                if declared is not None and declared > budget:
                    raise MediaError(url, self._too_large(declared))
                digest = hashlib.sha256()
                size = 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > budget:
                        raise MediaError(url, self._too_large(size, at_least=True))
                    digest.update(chunk)
                return FetchedMedia(url, content_type, size, digest.hexdigest())
        raise MediaError(url, f"more than {self.limits.max_redirects} redirects")

    def _check_url(self, url: str, target: str) -> None:
        try:
            validate_webhook_url(target)
        except WebhookURLError as exc:
            raise MediaError(url, str(exc).replace("webhook URL", "media URL")) from None
        host = URL(target).host or ""
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return  # a name: the guarded resolver and socket factory judge its addresses
        try:
            check_address(host.strip("[]"), allow_private=self.limits.allow_private)
        except BlockedAddressError as exc:
            raise MediaError(url, str(exc)) from None

    def _content_type(self, url: str, response: aiohttp.ClientResponse) -> str:
        declared = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not declared or declared == "application/octet-stream":
            declared = (mimetypes.guess_type(URL(url).path)[0] or declared).lower()
        if declared not in self.limits.content_types:
            raise MediaError(url, f"content type {declared or 'unknown'!r} is not supported")
        return declared

    def _too_large(self, size: int, *, at_least: bool = False) -> str:
        amount = f"{'over ' if at_least else ''}{size} bytes"
        return f"is {amount}; media may total at most {self.limits.max_total_bytes} bytes"


def _blocked_cause(exc: BaseException) -> BlockedAddressError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BlockedAddressError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
