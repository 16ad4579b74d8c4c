"""Bulk messaging-settings updates: accept an order, apply it in the background, report it.

The order and its items are rows; a worker claims the order (like a queued message) and
applies it batch by batch, one transaction per batch, so `GET` shows progress and a crash
loses at most the batch in flight (the claim goes stale and another worker resumes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from switchboard.domain import errors
from switchboard.domain.bulk_updates import (
    BATCH_SIZE,
    NOT_ACTIVE,
    NOT_OWNED,
    PROFILE_GONE,
    classify,
    order_resource,
)
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.numbers import default_product
from switchboard.services.profiles import not_found
from switchboard.services.runtime import Runtime
from switchboard.store import bulk_updates as order_store
from switchboard.store import numbers as number_store
from switchboard.store import profiles as profile_store

LEASE = timedelta(seconds=30)  # a claim not renewed for this long is taken over


async def create_order(
    rt: Runtime,
    account_id: str,
    messaging_profile_id: str,
    numbers: list[str],
    *,
    assign_only: bool,
) -> dict[str, Any]:
    """Store the order; malformed and repeated numbers fail now, the rest are `pending`."""
    target: str | None = None
    if messaging_profile_id != "":
        target = messaging_profile_id
    now = utcnow()
    order_id = new_id()
    items = classify(numbers)
    item_rows = [
        {
            "order_id": order_id,
            "position": item.position,
            "phone_number": item.phone_number,
            "status": item.status,
            "error_code": item.error_code,
            "error_detail": item.error_detail,
            "updated_at": now,
        }
        for item in items
    ]
    pending = sum(1 for item in items if item.status == "pending")
    async with rt.transaction() as conn:
        if target is not None and not (
            is_uuid(target) and await profile_store.get_profile(conn, account_id, target)
        ):
            raise ApiError(
                errors.ASSOCIATED_NOT_FOUND,
                f"Messaging profile '{target}' does not exist.",
                pointer="/messaging_profile_id",
            )
        await order_store.insert_order(
            conn,
            {
                "id": order_id,
                "account_id": account_id,
                "messaging_profile_id": target,
                "assign_only": assign_only,
                "status": "pending" if pending else "done",
                "number_count": len(numbers),
                "completed_at": None if pending else now,
                "created_at": now,
                "updated_at": now,
            },
            item_rows,
        )
    if pending:
        rt.wake_bulk_updater()
    return order_resource(order_id, item_rows)


async def get_order(rt: Runtime, account_id: str, order_id: str) -> dict[str, Any]:
    if not is_uuid(order_id):
        raise not_found("bulk update order")
    async with rt.read() as conn:
        order = await order_store.get_order(conn, account_id, order_id)
        if order is None:
            raise not_found("bulk update order")
        items = await order_store.items_of(conn, order_id)
    return order_resource(order_id, items)


async def release_own_claims(rt: Runtime, worker_id: str) -> int:
    async with rt.transaction() as conn:
        return await order_store.release_claims(conn, worker_id, utcnow())


async def claim_next(rt: Runtime, worker_id: str) -> dict[str, Any] | None:
    now = utcnow()
    async with rt.transaction() as conn:
        return await order_store.claim_next(conn, worker_id, now, now - LEASE)


async def apply_batch(rt: Runtime, order: dict[str, Any], worker_id: str) -> bool:
    """Apply the next batch of a claimed order. True while numbers remain pending.

    Every owned number of the batch is changed by one UPDATE; the items record each
    number's outcome in the same transaction.
    """
    now = utcnow()
    order_id, account_id = order["id"], order["account_id"]
    target = order["messaging_profile_id"]
    async with rt.transaction() as conn:
        if not await order_store.renew_claim(conn, order_id, worker_id, now):
            return False  # another worker took the order over
        batch = await order_store.pending_items(conn, order_id, BATCH_SIZE)
        if not batch:
            await order_store.finish_order(conn, order_id, now)
            return False
        positions = [item["position"] for item in batch]
        if target is not None and await profile_store.get_profile(conn, account_id, target) is None:
            await order_store.settle_items(
                conn,
                order_id,
                positions,
                now,
                status="failed",
                error_code=PROFILE_GONE[0],
                error_detail="The messaging profile was deleted before the number was assigned.",
            )
            return True
        owned = await number_store.owned_numbers(
            conn, account_id, [item["phone_number"] for item in batch]
        )
        done: list[int] = []
        missing: list[int] = []
        inactive: list[int] = []
        by_kind: dict[str, list[str]] = {}
        for item in batch:
            number = owned.get(item["phone_number"])
            if number is None:
                missing.append(item["position"])
            elif number["status"] != "active":
                inactive.append(item["position"])
            else:
                done.append(item["position"])
                by_kind.setdefault(number["number_kind"], []).append(number["id"])
        for kind, ids in by_kind.items():
            values: dict[str, Any] = {"messaging_profile_id": target, "updated_at": now}
            if not order["assign_only"]:
                values["messaging_product"] = default_product(kind)
            await number_store.assign_numbers(conn, account_id, ids, values)
        await order_store.settle_items(conn, order_id, done, now, status="success")
        await order_store.settle_items(
            conn,
            order_id,
            missing,
            now,
            status="failed",
            error_code=NOT_OWNED[0],
            error_detail="Not a phone number of this account.",
        )
        await order_store.settle_items(
            conn,
            order_id,
            inactive,
            now,
            status="failed",
            error_code=NOT_ACTIVE[0],
            error_detail="The phone number is not active.",
        )
        if len(batch) < BATCH_SIZE:
            await order_store.finish_order(conn, order_id, now)
            return False
    return True


async def run_order(rt: Runtime, order: dict[str, Any], worker_id: str) -> None:
    while await apply_batch(rt, order, worker_id):
        pass
