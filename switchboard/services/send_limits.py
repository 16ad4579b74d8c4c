"""Profile rules a send must pass once its cost is known: `mobile_only`, daily spend limit.

Called by `messages.send_message` inside its transaction, just before the message is
stored, so the spend check and the insert it guards commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.metrics import money
from switchboard.domain.phone import PhoneNumber
from switchboard.domain.spend import (
    enforced_limit,
    seconds_until_reset,
    start_of_day,
    would_exceed,
)
from switchboard.store import metrics as metric_store


async def check_send(
    conn: AsyncConnection,
    profile: dict[str, Any],
    destination: PhoneNumber,
    cost: str | None,
    now: datetime,
    *,
    pending: Sequence[dict[str, Any]] = (),
) -> None:
    """Refuse a message the profile does not allow. `pending`: messages of the same request
    accepted but not stored yet (other recipients of a group MMS), whose cost counts too.
    """
    if profile["mobile_only"] and not destination.is_mobile:
        raise ApiError(
            errors.NOT_MOBILE,
            f"{destination.e164} is not a mobile number, and the messaging profile sends to "
            "mobile numbers only (mobile_only).",
            pointer="/to",
        )
    limit = enforced_limit(profile)
    if limit is None:
        return
    # Sends of one profile pass this check one at a time, so two cannot both take the
    # last of the day's budget.
    await metric_store.lock_profile(conn, profile["id"])
    spent = money(await metric_store.outbound_spend(conn, profile["id"], start_of_day(now)))
    spent += sum((money(r["cost_amount"]) for r in pending), Decimal(0))
    if would_exceed(spent, cost, limit):
        raise ApiError(
            errors.SPEND_LIMIT_REACHED,
            f"The messaging profile's daily spend limit ({profile['daily_spend_limit']}) would "
            f"be exceeded: {spent} spent today (UTC), this message costs {cost}. "
            "The limit resets at midnight UTC.",
            # Waiting helps only after midnight UTC: tell SDKs not to retry at once.
            headers={"x-should-retry": "false", "retry-after": str(seconds_until_reset(now))},
        )
