"""Webhooks: events recorded with the change that causes them, delivery rounds, signing keys.

An event and its delivery row are written in the transaction of the status change (or the
inbound message) they report, so none is lost in between. The sender
(`workers/webhook_sender.py`) claims due deliveries, tries their targets in order once per
round, and records every attempt through this module.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from yarl import URL

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.resources import inbound_message, outbound_message
from switchboard.domain.status import event_for
from switchboard.services import events
from switchboard.services.runtime import Runtime
from switchboard.store import accounts as account_store
from switchboard.store import profiles as profile_store
from switchboard.store import webhooks as webhook_store
from switchboard.store.after_commit import after_commit
from switchboard.store.webhooks import DeliveryFilter
from switchboard.webhooks.client import AttemptResult
from switchboard.webhooks.envelope import StoredEvent, WebhookEvent
from switchboard.webhooks.records import (
    attempt_row,
    delivery_resource,
    event_from_text,
    event_text,
    webhook_component,
)
from switchboard.webhooks.signing import (
    WebhookSigner,
    generate_seed,
    load_seed_b64,
    public_key_b64,
    seed_to_b64,
)

log = logging.getLogger(__name__)

__all__ = [
    "Attempt",
    "ClaimRound",
    "Claimed",
    "DeliveryFilter",
    "Rotation",
    "claim",
    "enqueue_event",
    "enqueue_message_received",
    "install",
    "message_targets",
    "profile_targets",
    "record_attempts",
]


# --- targets -----------------------------------------------------------------------------


def profile_targets(profile: dict[str, Any] | None) -> list[str]:
    """A profile's webhook URL then its failover URL (empty values mean none)."""
    if profile is None:
        return []
    urls = [profile.get("webhook_url"), profile.get("webhook_failover_url")]
    return list(dict.fromkeys(u for u in urls if u))


def message_targets(message: dict[str, Any], profile: dict[str, Any] | None) -> list[str]:
    """Where an outbound message's events go, in the order each round tries them.

    The message's own URL and failover URL first; then, when `use_profile_webhooks` is
    true, its profile's. A URL listed twice is tried once.
    """
    urls = [message.get("webhook_url"), message.get("webhook_failover_url")]
    if message.get("use_profile_webhooks", True):
        urls.extend(profile_targets(profile))
    return list(dict.fromkeys(u for u in urls if u))


# --- enqueueing (inside the caller's transaction) ----------------------------------------


def _wake_after_commit(rt: Runtime, conn: AsyncConnection, hosts: Iterable[str]) -> None:
    """Wake the sender once this transaction commits (waking earlier would find nothing)."""
    hosts = set(hosts)
    after_commit(conn, lambda: rt.wake_webhook_sender(hosts))


def _rows_for(
    rt: Runtime,
    *,
    account_id: str,
    event: WebhookEvent,
    message_id: str | None,
    targets: Sequence[str],
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    event_row = {
        "id": event.id,
        "account_id": account_id,
        "event_type": event.event_type,
        "message_id": message_id,
        "occurred_at": now,
        "data": event_text(event),
        "created_at": now,
    }
    delivery_row = {
        "id": new_id(),
        "account_id": account_id,
        "event_id": event.id,
        "event_type": event.event_type,
        "message_id": message_id,
        "targets": list(targets),
        "target_host": (URL(targets[0]).host or "")[:255],
        "status": "pending",
        "rounds": 0,
        "attempt_count": 0,
        "next_attempt_at": now + timedelta(seconds=rt.settings.webhooks.schedule.first_delay()),
        "claimed_by": None,
        "claimed_at": None,
        "started_at": None,
        "finished_at": None,
        "created_at": now,
        "updated_at": now,
    }
    return event_row, delivery_row


async def enqueue_event(
    rt: Runtime,
    conn: AsyncConnection,
    *,
    account_id: str,
    event: WebhookEvent,
    targets: Sequence[str],
    now: datetime,
    message_id: str | None = None,
) -> str | None:
    """Store `event` and a delivery to `targets`; the delivery id, or None without targets."""
    if not targets:
        return None
    event_row, delivery_row = _rows_for(
        rt, account_id=account_id, event=event, message_id=message_id, targets=targets, now=now
    )
    await webhook_store.insert_events(conn, [event_row])
    await webhook_store.insert_deliveries(conn, [delivery_row])
    _wake_after_commit(rt, conn, [delivery_row["target_host"]])
    return str(delivery_row["id"])


async def enqueue_message_received(
    rt: Runtime, conn: AsyncConnection, message: dict[str, Any], now: datetime | None = None
) -> str | None:
    """Queue `message.received` for an inbound message row, to its profile's URLs.

    For the inbound path: call it inside the transaction that stores the row, whose
    `messaging_profile_id` is the receiving number's profile. Returns the delivery id, or
    None when that profile has no webhook URL.
    """
    now = now or utcnow()
    profile = None
    if message.get("messaging_profile_id"):
        profile = await _profile(rt, conn, message["account_id"], message["messaging_profile_id"])
    event = StoredEvent(
        id=new_id(),
        event_type="message.received",
        occurred_at=now,
        payload=inbound_message(message, message["account_id"]),
    )
    return await enqueue_event(
        rt,
        conn,
        account_id=message["account_id"],
        event=event,
        targets=profile_targets(profile),
        now=now,
        message_id=message["id"],
    )


async def _profile(
    rt: Runtime, conn: AsyncConnection, account_id: str, profile_id: str
) -> dict[str, Any] | None:
    """The profile whose webhook URLs an event goes to, kept as sends keep resolved senders.

    Every status change that queues a webhook needs it, and reading it (a row of JSON
    columns) cost that change about a tenth of its CPU. This process's own profile updates
    apply at once; another process's within the cache's time to live (runtime.py), as for
    sends. The dict is shared: read it, never change it.
    """
    return await rt.profile_cache.get_or_load(
        (account_id, profile_id), lambda: profile_store.get_profile(conn, account_id, profile_id)
    )


class StatusEventHook:
    """Transition hook: `message.sent` / `message.finalized` for outbound rows that reach
    `sent` or a terminal status, stored in the same transaction as the change."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def __call__(
        self, conn: AsyncConnection, rows: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        wanted = [
            (row, event_type)
            for row in rows
            if row.get("direction") == "outbound"
            and (event_type := event_for(row["status"])) is not None
        ]
        if not wanted:
            return
        event_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        for row, event_type in wanted:
            profile = None
            profile_id = row.get("messaging_profile_id")
            if profile_id and row.get("use_profile_webhooks", True):
                profile = await _profile(self.rt, conn, row["account_id"], profile_id)
            targets = message_targets(row, profile)
            if not targets:
                continue
            event = StoredEvent(
                id=new_id(),
                event_type=event_type,
                occurred_at=now,
                payload=outbound_message([row], row["account_id"]),
            )
            event_row, delivery_row = _rows_for(
                self.rt,
                account_id=row["account_id"],
                event=event,
                message_id=row["id"],
                targets=targets,
                now=now,
            )
            event_rows.append(event_row)
            delivery_rows.append(delivery_row)
        if delivery_rows:
            await webhook_store.insert_events(conn, event_rows)
            await webhook_store.insert_deliveries(conn, delivery_rows)
            _wake_after_commit(self.rt, conn, (d["target_host"] for d in delivery_rows))


def install(rt: Runtime) -> None:
    """Register the status-event hook on `rt` (once, however often it is called)."""
    if not any(isinstance(h, StatusEventHook) for h in rt.transition_hooks):
        rt.transition_hooks.append(StatusEventHook(rt))


# --- signing keys ------------------------------------------------------------------------


async def signers_for(
    rt: Runtime, account_ids: Iterable[str], key_rows: Sequence[dict[str, Any]] | None = None
) -> dict[str, WebhookSigner]:
    """The signer of each account: its current key, plus the previous one while in grace.

    `SWITCHBOARD_WEBHOOK_SIGNING_KEY`, when set, is every account's key. `key_rows` are the
    accounts' keys in use if the caller has read them already (`signing_keys_in_use`).
    """
    ids = sorted(set(account_ids))
    configured = rt.settings.webhook_signing_key
    if configured:
        signer = _signer(configured, None, None)
        return {a: signer for a in ids}
    if key_rows is None:
        async with rt.read() as conn:
            key_rows = await webhook_store.signing_keys_in_use(conn, ids, utcnow())
    signers: dict[str, WebhookSigner] = {}
    for account_id in ids:
        mine = [r for r in key_rows if r["account_id"] == account_id]
        current = next((r for r in mine if r["retired_at"] is None), None)
        previous = next((r for r in mine if r["retired_at"] is not None), None)
        if current is None:
            current = await _new_signing_key(rt, account_id)
        signers[account_id] = _signer(
            current["seed_b64"],
            previous["seed_b64"] if previous else None,
            int(previous["retired_at"].timestamp()) if previous else None,
        )
    return signers


@functools.lru_cache(maxsize=256)
def _signer(seed_b64: str, previous_b64: str | None, previous_until: int | None) -> WebhookSigner:
    """A signer for these keys, made once: deriving its key pairs cost a claim 10% of its CPU."""
    return WebhookSigner(
        load_seed_b64(seed_b64),
        load_seed_b64(previous_b64) if previous_b64 is not None else None,
        previous_until,
    )


async def _new_signing_key(rt: Runtime, account_id: str) -> dict[str, Any]:
    seed, now, key_id = generate_seed(), utcnow(), new_id()
    seed_b64, public = seed_to_b64(seed), public_key_b64(seed)
    async with rt.transaction() as conn:
        await account_store.insert_signing_key(conn, key_id, account_id, seed_b64, public, now)
    return {"id": key_id, "seed_b64": seed_b64, "public_key_b64": public, "retired_at": None}


@dataclass(frozen=True)
class Rotation:
    account_id: str
    public_key: str
    previous_public_key: str | None
    previous_until: datetime | None


class KeyRotationError(RuntimeError):
    pass


async def rotate_signing_key(
    rt: Runtime, account_id: str | None = None, grace_seconds: float | None = None
) -> Rotation:
    """Make a new current signing key. The previous one keeps signing Standard Webhooks
    headers (`webhook-signature`) for `grace_seconds` (default: the configured grace)."""
    if rt.settings.webhook_signing_key:
        raise KeyRotationError(
            "the signing key comes from SWITCHBOARD_WEBHOOK_SIGNING_KEY; rotate it there"
        )
    grace = rt.settings.webhooks.key_rotation_grace if grace_seconds is None else grace_seconds
    now = utcnow()
    until = now + timedelta(seconds=grace)
    seed = generate_seed()
    async with rt.transaction() as conn:
        if account_id is None:
            account = await account_store.first_account(conn)
            if account is None:
                raise KeyRotationError("no account yet: run `switchboard serve` or `migrate`")
            account_id = str(account["id"])
        retired = await webhook_store.retire_signing_keys(conn, account_id, now, until)
        public = public_key_b64(seed)
        await account_store.insert_signing_key(
            conn, new_id(), account_id, seed_to_b64(seed), public, now
        )
    previous = retired[0]["public_key_b64"] if retired else None
    return Rotation(account_id, public, previous, until if retired and grace > 0 else None)


# --- the sender's side -------------------------------------------------------------------


@dataclass
class Claimed:
    """A delivery this worker holds for one round, with what it needs to send it."""

    delivery: dict[str, Any]
    event: WebhookEvent
    signer: WebhookSigner

    @property
    def targets(self) -> list[str]:
        return list(self.delivery["targets"])

    @property
    def host(self) -> str:
        return str(self.delivery["target_host"])


@dataclass
class ClaimRound:
    """What one claim took, and when the queue has more: when it took fewer than asked,
    `next_due_at` is when the earliest delivery left pending comes due (None: none is)."""

    claimed: list[Claimed]
    drained: bool
    next_due_at: datetime | None = None


async def claim(
    rt: Runtime, worker_id: str, limit: int, busy_hosts: Sequence[str] = ()
) -> ClaimRound:
    """Claim up to `limit` due deliveries. The accounts' signing keys, and the queue's next
    due time when the claim drained it, are read in the same transaction: each separate
    read took a connection of its own, about as much CPU as the claim."""
    now = utcnow()

    async def claim_in(
        conn: AsyncConnection,
    ) -> tuple[list[dict[str, Any]], datetime | None, list[dict[str, Any]] | None]:
        rows = await webhook_store.claim_due(conn, worker_id, now, limit, busy_hosts)
        next_due = await webhook_store.next_due_at(conn) if len(rows) < limit else None
        keys = None
        if rows and not rt.settings.webhook_signing_key:
            account_ids = sorted({r["account_id"] for r in rows})
            keys = await webhook_store.signing_keys_in_use(conn, account_ids, now)
        return rows, next_due, keys

    rows, next_due, keys = await rt.run_transaction(claim_in)
    drained = len(rows) < limit
    account_ids = sorted({r["account_id"] for r in rows})
    if not rows:
        return ClaimRound([], drained, next_due)
    signers = await signers_for(rt, account_ids, keys)
    claimed = [
        Claimed(r, event_from_text(r["event_id"], r.pop("event_data")), signers[r["account_id"]])
        for r in rows
    ]
    return ClaimRound(claimed, drained, next_due)


@dataclass(frozen=True)
class Attempt:
    """One POST of a claimed delivery, waiting to be recorded."""

    claimed: Claimed
    result: AttemptResult
    body: bytes
    last_in_round: bool


def _attempt_changes(rt: Runtime, attempt: Attempt, now: datetime) -> tuple[str, dict[str, Any]]:
    """What an attempt does to its delivery: the outcome and the delivery's new values."""
    d, result = attempt.claimed.delivery, attempt.result
    round_no = d["rounds"] + 1
    values: dict[str, Any] = {
        "attempt_count": d["attempt_count"] + 1,
        "updated_at": now,
        "claimed_at": now,
    }
    if d["started_at"] is None:
        values["started_at"] = result.started_at
    outcome = "continue"
    if result.ok:
        outcome = "delivered"
    elif attempt.last_in_round:
        next_at = rt.settings.webhooks.schedule.next_attempt_at(round_no, now)
        outcome = "failed" if next_at is None else "pending"
        values["next_attempt_at"] = next_at
    if outcome != "continue":
        values.update(status=outcome, rounds=round_no, claimed_by=None)
        if outcome in ("delivered", "failed"):
            values.update(finished_at=result.finished_at, next_attempt_at=None)
    return outcome, values


async def record_attempts(rt: Runtime, worker_id: str, attempts: Sequence[Attempt]) -> list[str]:
    """Keep attempts and move their deliveries on, in one transaction for the batch.

    For each: `delivered`, `failed` (schedule exhausted), `pending` (next round scheduled)
    or `continue` (try the next target of this round). Each delivery at most once a batch.
    Each claimed delivery's dict is updated to its new values, and its `later_pending` says
    whether another delivery of its message is waiting (one its round may have let go).
    """
    now = utcnow()
    planned = [(a, *_attempt_changes(rt, a, now)) for a in attempts]
    rows = [
        attempt_row(
            a.result,
            attempt_id=new_id(),
            delivery_id=a.claimed.delivery["id"],
            number=values["attempt_count"],
            round_no=a.claimed.delivery["rounds"] + 1,
            body=a.body,
        )
        for a, _outcome, values in planned
    ]

    async def record_in(conn: AsyncConnection) -> tuple[set[str], set[str]]:
        await webhook_store.insert_attempts(conn, rows)
        held = await webhook_store.update_claimed_many(
            conn, worker_id, [(a.claimed.delivery["id"], values) for a, _, values in planned]
        )
        for a, outcome, _values in planned:
            d = a.claimed.delivery
            if d["id"] in held and outcome == "delivered" and d["event_type"] == "message.received":
                await events.inbound_webhook_delivered(rt, conn, d["message_id"], now)
        ended = {a.claimed.delivery["message_id"] for a, o, _ in planned if o != "continue"}
        return held, await webhook_store.messages_with_pending(conn, ended - {None})

    held, waiting = await rt.run_transaction(record_in)
    for a, _outcome, values in planned:
        d = a.claimed.delivery
        if d["id"] not in held:
            log.warning("delivery %s was reclaimed while it was being tried", d["id"])
        d.update(values)
        d["later_pending"] = d["message_id"] in waiting
    return [outcome for _a, outcome, _values in planned]


async def recover_stale(rt: Runtime) -> int:
    """Deliveries a dead worker left claimed past the lease → pending, due now."""
    now = utcnow()
    cutoff = now - timedelta(seconds=rt.settings.webhooks.lease_seconds)
    async with rt.transaction() as conn:
        return await webhook_store.requeue_claimed(conn, now, claimed_before=cutoff)


async def release_own_claims(rt: Runtime, worker_id: str) -> int:
    """At start-up: deliveries this worker id held when it stopped are due again now."""
    now = utcnow()
    async with rt.transaction() as conn:
        return await webhook_store.requeue_claimed(
            conn, now, claimed_before=now + timedelta(seconds=1), worker_id=worker_id
        )


async def next_due_at(rt: Runtime) -> datetime | None:
    async with rt.read() as conn:
        return await webhook_store.next_due_at(conn)


# --- the deliveries API ------------------------------------------------------------------


async def list_deliveries(
    rt: Runtime, account_id: str, flt: DeliveryFilter, page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """`WebhookDelivery` resources of the account, newest first, and the total count."""
    async with rt.read() as conn:
        rows, total = await webhook_store.list_deliveries(
            conn, account_id, flt, page_number, page_size
        )
        attempts = await webhook_store.attempts_for(conn, [r["id"] for r in rows])
    return [delivery_resource(r, attempts[r["id"]]) for r in rows], total


async def get_delivery(rt: Runtime, account_id: str, delivery_id: str) -> dict[str, Any]:
    not_found = ApiError(errors.NOT_FOUND, "The requested webhook delivery could not be found.")
    if not is_uuid(delivery_id):
        raise not_found
    async with rt.read() as conn:
        row = await webhook_store.get_delivery(conn, account_id, delivery_id)
        if row is None:
            raise not_found
        attempts = await webhook_store.attempts_for(conn, [delivery_id])
    return delivery_resource(row, attempts[delivery_id])


async def message_deliveries(rt: Runtime, account_id: str, message_id: str) -> list[dict[str, Any]]:
    """The deliveries of one message's events, oldest first, with everything each attempt
    sent and got: `delivery` (the row), `webhook` (the event) and `attempts` (newest first,
    request and response bodies included)."""
    async with rt.read() as conn:
        rows = await webhook_store.deliveries_for_message(conn, account_id, message_id)
        attempts = await webhook_store.attempts_for(conn, [r["id"] for r in rows])
    return [
        {
            "delivery": row,
            "webhook": webhook_component(row["event_id"], row["event_type"], row["event_data"]),
            "attempts": attempts[row["id"]],
        }
        for row in rows
    ]


async def resend_delivery(rt: Runtime, account_id: str, delivery_id: str) -> bool:
    """Queue a delivery again, due now, with a fresh retry schedule (the same event: same
    `data.id`, the attempt count goes on). False while an attempt is in flight."""
    if not is_uuid(delivery_id):
        raise ApiError(errors.NOT_FOUND, "The requested webhook delivery could not be found.")
    async with rt.transaction() as conn:
        if await webhook_store.get_delivery(conn, account_id, delivery_id) is None:
            raise ApiError(errors.NOT_FOUND, "The requested webhook delivery could not be found.")
        queued = await webhook_store.requeue_delivery(conn, account_id, delivery_id, utcnow())
    if queued:
        rt.wake_webhook_sender()
    return queued
