"""Phone numbers' messaging rules: number types, messaging products, mobile ranges, health.

Pure functions; the numbers service and the resource renderers share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import phonenumbers
from phonenumbers import PhoneNumberType

PhoneNumberKind = Literal["local", "toll_free", "mobile"]

# `filter[type]` values of `GET /phone_numbers/messaging` → the stored `number_kind`.
FILTER_TYPES: dict[str, str] = {
    "longcode": "long_code",
    "tollfree": "toll_free",
    "shortcode": "short_code",
}

# Products a number can be registered for, by kind: toll-free numbers are A2P only.
_ELIGIBLE_PRODUCTS: dict[str, tuple[str, ...]] = {
    "long_code": ("A2P", "P2P"),
    "toll_free": ("A2P",),
}
_DEFAULT_PRODUCT: dict[str, str] = {"long_code": "P2P", "toll_free": "A2P"}


def eligible_products(number_kind: str) -> list[str]:
    return list(_ELIGIBLE_PRODUCTS.get(number_kind, ("A2P",)))


def default_product(number_kind: str) -> str:
    """The product a new number starts with, and what a full bulk update resets it to."""
    return _DEFAULT_PRODUCT.get(number_kind, "A2P")


def phone_number_type(e164: str) -> PhoneNumberKind:
    """`local`, `toll_free` or `mobile`, as stored in `phone_numbers.phone_number_type`.

    A number is *mobile* when its country's numbering plan reserves its range for mobile
    phones (phonenumbers says MOBILE: e.g. +44 7xxx, +49 15x-17x, +61 4xx). NANP numbers
    (+1) share ranges between fixed and mobile lines (FIXED_LINE_OR_MOBILE), so US and
    Canadian long codes count as `local`, never as mobile.
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "local"
    number_type = phonenumbers.number_type(parsed)
    if number_type == PhoneNumberType.TOLL_FREE:
        return "toll_free"
    if number_type == PhoneNumberType.MOBILE:
        return "mobile"
    return "local"


# --- Health -------------------------------------------------------------------------------

HEALTH_WINDOW = timedelta(days=7)  # the sample: messages of the last 7 days
SPAM_ERROR_CODES: tuple[str, ...] = ("40002", "40003", "40015")
FINISHED_OUTBOUND: tuple[str, ...] = (
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
)
UNHEALTHY_SUCCESS_BELOW = 0.25
UNHEALTHY_SPAM_ABOVE = 0.75


@dataclass(frozen=True)
class Traffic:
    """A number's messages in the health window, counted by the store."""

    outbound: int = 0  # accepted from the number (any status)
    inbound: int = 0  # received by the number
    finished: int = 0  # outbound that reached a final status (the "attempted" ones)
    delivered: int = 0
    spam: int = 0  # finished with a blocked-as-spam error (SPAM_ERROR_CODES)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4)


def health_metrics(traffic: Traffic) -> dict[str, Any]:
    """`NumberHealthMetrics`: always all four keys (strict clients reject partial objects).

    A number without finished outbound messages is presumed healthy (success 1.0, spam 0.0),
    so a new number is never left out of a pool. With no outbound message the
    inbound/outbound ratio is the inbound count itself (divided by one).
    """
    return {
        "message_count": traffic.outbound + traffic.inbound,
        "inbound_outbound_ratio": _ratio(traffic.inbound, max(traffic.outbound, 1)),
        "success_ratio": _ratio(traffic.delivered, traffic.finished) if traffic.finished else 1.0,
        "spam_ratio": _ratio(traffic.spam, traffic.finished) if traffic.finished else 0.0,
    }


def is_unhealthy(health: dict[str, Any]) -> bool:
    """The number-pool rule: deliverability under 25 % or spam ratio over 75 %."""
    return bool(
        health["success_ratio"] < UNHEALTHY_SUCCESS_BELOW
        or health["spam_ratio"] > UNHEALTHY_SPAM_ABOVE
    )
