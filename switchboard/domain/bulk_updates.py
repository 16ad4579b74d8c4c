"""Bulk messaging-settings updates: what an order accepts and how each number is judged.

An order lists up to `MAX_NUMBERS` numbers. Each one succeeds or fails on its own: a
malformed number or a repeat of an earlier entry fails as soon as the order is created;
the rest wait (`pending`) until a worker applies the order and finds out whether the
account owns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from switchboard.domain.phone import InvalidNumber, parse_e164

MAX_NUMBERS = 5000
BATCH_SIZE = 500  # numbers applied per transaction: progress shows batch by batch

ItemStatus = Literal["pending", "success", "failed"]

# Failure codes of single numbers (the Telnyx 1xxxx meanings).
MALFORMED = ("10016", "Phone number must be in +E.164 format")
DUPLICATE = ("10012", "Duplicate resource")
NOT_OWNED = ("10005", "Resource not found")
NOT_ACTIVE = ("10001", "Inactive phone number")
PROFILE_GONE = ("10017", "Associated resource does not exist")

FAILURE_TITLES: dict[str, str] = {
    code: title for code, title in (MALFORMED, DUPLICATE, NOT_OWNED, NOT_ACTIVE, PROFILE_GONE)
}


@dataclass(frozen=True)
class Item:
    position: int
    phone_number: str
    status: ItemStatus
    error_code: str | None = None
    error_detail: str | None = None


def classify(numbers: Sequence[str]) -> list[Item]:
    """Judge what can be judged without the database: shape and repeats."""
    seen: set[str] = set()
    items: list[Item] = []
    for position, number in enumerate(numbers):
        try:
            parse_e164(number)
        except InvalidNumber as exc:
            items.append(
                Item(position, number, "failed", MALFORMED[0], f"'{number}' {exc.reason}.")
            )
            continue
        if number in seen:
            items.append(
                Item(
                    position,
                    number,
                    "failed",
                    DUPLICATE[0],
                    f"{number} appears more than once in the order; only its first entry is used.",
                )
            )
            continue
        seen.add(number)
        items.append(Item(position, number, "pending"))
    return items


def order_resource(order_id: str, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`BulkMessagingSettingsUpdatePhoneNumbers`, plus `failures` with each failure's reason.

    `items` are in submission order; the three lists keep that order.
    """
    partition: dict[str, list[str]] = {"success": [], "pending": [], "failed": []}
    failures: list[dict[str, Any]] = []
    for item in items:
        partition[item["status"]].append(item["phone_number"])
        if item["status"] == "failed":
            code = item["error_code"] or NOT_OWNED[0]
            failures.append(
                {
                    "phone_number": item["phone_number"],
                    "code": code,
                    "title": FAILURE_TITLES.get(code, "Update failed"),
                    "detail": item["error_detail"],
                }
            )
    return {
        "record_type": "messaging_numbers_bulk_update",
        "order_id": order_id,
        "success": partition["success"],
        "pending": partition["pending"],
        "failed": partition["failed"],
        "failures": failures,
    }
