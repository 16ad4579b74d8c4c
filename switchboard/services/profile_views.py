"""What belongs to a messaging profile (numbers, short codes, alphanumeric ids) and metrics."""

from __future__ import annotations

from typing import Any

from switchboard.domain.clock import utcnow
from switchboard.domain.metrics import Group, money, profile_metrics, window
from switchboard.services.number_settings import with_health
from switchboard.services.profiles import get_profile
from switchboard.services.runtime import Runtime
from switchboard.store import metrics as metric_store
from switchboard.store import numbers as number_store
from switchboard.store import profile_senders


async def list_phone_numbers(
    rt: Runtime, account_id: str, profile_id: str, *, page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    await get_profile(rt, account_id, profile_id)  # 404 for an unknown profile
    async with rt.read() as conn:
        rows, total = await number_store.list_numbers(
            conn,
            account_id,
            messaging_profile_id=profile_id,
            page_number=page_number,
            page_size=page_size,
        )
        return await with_health(conn, account_id, rows), total


async def _senders(
    rt: Runtime,
    account_id: str,
    profile_id: str,
    table_name: str,
    *,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    await get_profile(rt, account_id, profile_id)
    async with rt.read() as conn:
        return await profile_senders.list_for_profile(
            conn, table_name, account_id, profile_id, page_number=page_number, page_size=page_size
        )


async def list_short_codes(
    rt: Runtime, account_id: str, profile_id: str, *, page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    return await _senders(
        rt,
        account_id,
        profile_id,
        profile_senders.SHORT_CODES,
        page_number=page_number,
        page_size=page_size,
    )


async def list_alphanumeric_sender_ids(
    rt: Runtime, account_id: str, profile_id: str, *, page_number: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    return await _senders(
        rt,
        account_id,
        profile_id,
        profile_senders.ALPHANUMERIC_SENDER_IDS,
        page_number=page_number,
        page_size=page_size,
    )


def _groups(rows: list[dict[str, Any]]) -> list[Group]:
    return [
        Group(
            direction=r["direction"],
            status=r["status"],
            messages=int(r["messages"]),
            parts=int(r["parts"] or 0),
            cost=money(r["cost"]),
            interval=int(r.get("interval") or 0),
        )
        for r in rows
    ]


async def metrics_for_profile(
    rt: Runtime, account_id: str, profile_id: str, time_frame: str
) -> dict[str, Any]:
    """One profile's counts over the time frame, with a per-interval breakdown."""
    profile = await get_profile(rt, account_id, profile_id)
    win = window(time_frame, utcnow())
    async with rt.read() as conn:
        rows = await metric_store.message_groups(
            conn,
            account_id,
            win.start,
            profile_id=profile_id,
            interval_seconds=win.interval_seconds,
        )
    return profile_metrics(profile, _groups(rows), win, rt.settings.currency, with_intervals=True)


async def metrics_for_account(
    rt: Runtime, account_id: str, time_frame: str
) -> list[dict[str, Any]]:
    """A summary per profile of the account (profiles without traffic included)."""
    win = window(time_frame, utcnow())
    async with rt.read() as conn:
        profiles = await metric_store.all_profiles(conn, account_id)
        rows = await metric_store.message_groups(conn, account_id, win.start)
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_profile.setdefault(row["messaging_profile_id"], []).append(row)
    return [
        profile_metrics(
            p,
            _groups(by_profile.get(p["id"], [])),
            win,
            rt.settings.currency,
            with_intervals=False,
        )
        for p in profiles
    ]
