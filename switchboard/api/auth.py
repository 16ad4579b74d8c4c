"""Bearer API keys → the caller's account id, cached briefly to keep the request path lean."""

from __future__ import annotations

from starlette.requests import Request

from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.services import accounts
from switchboard.services.lookup_cache import LookupCache
from switchboard.services.runtime import Runtime

CACHE_SECONDS = 5.0  # a revoked key stops working within this long


class KeyCache:
    def __init__(self) -> None:
        self._cache: LookupCache[str | None] = LookupCache(CACHE_SECONDS)

    async def account_for(self, rt: Runtime, key: str) -> str | None:
        return await self._cache.get_or_load(key, lambda: accounts.authenticate(rt, key))


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
