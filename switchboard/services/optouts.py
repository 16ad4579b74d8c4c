"""Opt-outs: block rules per (messaging profile, destination), the send-path check, listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.services.runtime import Runtime
from switchboard.store import optouts as optout_store


def blocked_error(from_address: str, to_address: str) -> ApiError:
    """The 409 of a send to a destination that opted out."""
    return ApiError(
        errors.OPTED_OUT,
        f"Messages cannot be sent from '{from_address}' to '{to_address}' due to an "
        "existing block rule.",
        pointer="/to",
        headers={"x-should-retry": "false"},
    )


async def list_opt_outs(
    rt: Runtime,
    account_id: str,
    *,
    messaging_profile_id: str | None = None,
    from_address: str | None = None,
    created_gte: datetime | None = None,
    created_lte: datetime | None = None,
    page_number: int = 1,
    page_size: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await optout_store.list_opt_outs(
            conn,
            account_id,
            messaging_profile_id=messaging_profile_id,
            from_address=from_address,
            created_gte=created_gte,
            created_lte=created_lte,
            page_number=page_number,
            page_size=page_size,
        )
