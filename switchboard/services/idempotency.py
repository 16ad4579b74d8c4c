"""Idempotency-Key: a retried send returns the first answer instead of sending twice.

A key is scoped to the account, the HTTP method and the path. The first request with a key
leaves an `in_flight` record; the response it succeeds with is stored *in the transaction
that accepts its messages*, so either both the messages and the stored answer exist or
neither does. Failed requests leave no record: the client may retry them with the same key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import new_id
from switchboard.services.runtime import Runtime
from switchboard.store import idempotency as store

KEY_SHAPE = re.compile(r"^[A-Za-z0-9_:-]{1,255}$")


@dataclass(frozen=True)
class Replay:
    """The stored answer to an earlier request with the same key and body."""

    status: int
    body: str


@dataclass(frozen=True)
class Claim:
    """This request owns the key until it completes or is released."""

    record_id: str


def check_key(key: str) -> str:
    if not KEY_SHAPE.match(key):
        raise ApiError(
            errors.INVALID_IDEMPOTENCY_KEY,
            "The Idempotency-Key header must be 1-255 characters from A-Z, a-z, 0-9, '_', "
            "':' and '-' (a UUID works).",
            parameter="Idempotency-Key",
        )
    return key


def fingerprint(query: str, body: bytes) -> str:
    """What "the same request" means: the same query string and byte-identical body."""
    digest = hashlib.sha256()
    digest.update(query.encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


async def begin(
    rt: Runtime, account_id: str, key: str, method: str, path: str, request_fingerprint: str
) -> Claim | Replay:
    """Claim `key` for this request, or return the answer to replay; 422/409 otherwise."""
    settings = rt.settings.idempotency
    now = utcnow()
    async with rt.transaction() as conn:
        existing = await store.find(conn, account_id, key, method, path)
        if existing is not None and _reusable(existing, now, settings.in_flight_timeout):
            await store.delete(conn, existing["id"])
            existing = None
        if existing is None:
            record_id = new_id()
            inserted = await store.insert_if_absent(
                conn,
                {
                    "id": record_id,
                    "account_id": account_id,
                    "key": key,
                    "method": method,
                    "path": path,
                    "fingerprint": request_fingerprint,
                    "state": "in_flight",
                    "created_at": now,
                    "expires_at": now + timedelta(seconds=settings.ttl_seconds),
                },
            )
            if inserted:
                return Claim(record_id)
            existing = await store.find(conn, account_id, key, method, path)
            if existing is None:  # inserted and released in between: treat as in flight
                raise _in_progress()
    if existing["fingerprint"] != request_fingerprint:
        raise ApiError(
            errors.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was already used with a different request body or query. "
            "Use a new key for a new request.",
            parameter="Idempotency-Key",
        )
    if existing["state"] != "done":
        raise _in_progress()
    return Replay(status=existing["response_status"], body=existing["response_body"])


def _reusable(record: dict[str, Any], now: datetime, in_flight_timeout: float) -> bool:
    """Expired records, and in-flight ones whose request died without an answer."""
    if record["expires_at"] <= now:
        return True
    stale_before = now - timedelta(seconds=in_flight_timeout)
    return bool(record["state"] == "in_flight" and record["created_at"] < stale_before)


def _in_progress() -> ApiError:
    return ApiError(
        errors.IDEMPOTENCY_IN_PROGRESS,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        parameter="Idempotency-Key",
        headers={"x-should-retry": "true", "retry-after": "1"},
    )


async def complete(conn: AsyncConnection, claim: Claim, status: int, body: str) -> None:
    """Store the answer, inside the transaction that accepted the request's messages.

    If the claim was taken over meanwhile (this request hung past the in-flight timeout and
    a retry replaced it), the caller's transaction is rolled back rather than send twice.
    """
    if not await store.complete(conn, claim.record_id, status, body):
        raise _in_progress()


async def release(rt: Runtime, claim: Claim) -> None:
    """Forget a claim whose request failed, so the key can be used again."""
    async with rt.transaction() as conn:
        await store.delete(conn, claim.record_id, state="in_flight")


async def purge_expired(rt: Runtime) -> int:
    async with rt.transaction() as conn:
        return await store.delete_expired(conn, utcnow())
