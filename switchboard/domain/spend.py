"""Daily spend limits of messaging profiles: the day is the UTC calendar day."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: when the day's spend resets."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_until_reset(now: datetime) -> int:
    return int((start_of_day(now) + timedelta(days=1) - now).total_seconds()) + 1


def enforced_limit(profile: dict[str, Any]) -> Decimal | None:
    """The profile's limit in its currency, or None when no limit applies."""
    if not profile.get("daily_spend_limit_enabled"):
        return None
    raw = profile.get("daily_spend_limit")
    if raw in (None, ""):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def would_exceed(spent_today: Decimal, cost: str | None, limit: Decimal) -> bool:
    """True when accepting a message costing `cost` takes the day's spend past `limit`."""
    return spent_today + Decimal(cost or "0") > limit
