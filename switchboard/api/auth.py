"""Bearer API keys → the caller's account id, cached briefly to keep the request path lean."""

from __future__ import annotations

import time

from starlette.requests import Request

from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.services import accounts
from switchboard.services.runtime import Runtime

CACHE_SECONDS = 5.0  # a revoked key stops working within this long


class KeyCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, str | None]] = {}

    async def account_for(self, rt: Runtime, key: str) -> str | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        account_id = await accounts.authenticate(rt, key)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (now + CACHE_SECONDS, account_id)
        return account_id


async def require_account(request: Request) -> str:
    """The account of the request's API key, or a 401 in the Telnyx shape."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError(
            errors.AUTHENTICATION_FAILED,
            "Send your API key as 'Authorization: Bearer <key>'.",
            headers={"www-authenticate": "Bearer"},
        )
    rt: Runtime = request.app.state.runtime
    cache: KeyCache = request.app.state.key_cache
    account_id = await cache.account_for(rt, key)
    if account_id is None:
        raise ApiError(
            errors.AUTHENTICATION_FAILED,
            "The API key is not valid.",
            headers={"www-authenticate": "Bearer"},
        )
    return account_id
