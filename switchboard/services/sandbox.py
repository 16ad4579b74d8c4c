"""The simulated network's record: what virtual handsets received and sent (sandbox mode).

Outbound traffic is written by a transition hook when the sandbox carrier accepts a message
(`sent`), in the same transaction, and its status follows the message to its final state.
Inbound traffic is written by the inbound service when a handset's message is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.domain.ids import new_id
from switchboard.domain.status import TERMINAL
from switchboard.services.runtime import Runtime
from switchboard.store import inbound as inbound_store
from switchboard.store import sandbox as sandbox_store

CARRIER = "sandbox"  # `SandboxCarrier.name`


class HandsetNetwork(Protocol):
    """The part of the sandbox carrier that lets a virtual handset send a message in."""

    async def handset_sends(
        self,
        from_: str,
        to: str,
        text: str,
        message_type: Literal["SMS", "MMS", "WHATSAPP"] = "SMS",
        media_urls: tuple[str, ...] = (),
    ) -> str:
        """Deliver the message to the platform like a phone would; returns its carrier id."""
        ...


def enabled(rt: Runtime) -> bool:
    return rt.settings.mode == "sandbox"


def install(rt: Runtime) -> None:
    """Record outbound sandbox traffic from now on (sandbox mode only)."""
    if enabled(rt) and record_transitions not in rt.transition_hooks:
        rt.transition_hooks.append(record_transitions)


def _traffic_row(
    message: dict[str, Any],
    direction: str,
    status: str,
    carrier_message_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    inbound = direction == "inbound"
    return {
        "id": new_id(),
        "account_id": message["account_id"],
        "direction": direction,
        "handset": message["from_address"] if inbound else message["to_address"],
        "number": message["to_address"] if inbound else message["from_address"],
        "message_id": message["id"],
        "type": message["type"],
        "text": message["sent_text"],
        "media": [m.get("url") for m in message["media"] or []],
        "status": status,
        "carrier_message_id": carrier_message_id,
        "created_at": now,
        "updated_at": now,
    }


async def record_transitions(
    conn: AsyncConnection, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Transition hook: a message the sandbox carrier accepted reached the handset."""
    ours = [r for r in rows if r.get("direction") == "outbound" and r.get("carrier") == CARRIER]
    await sandbox_store.insert_traffic_many(
        conn,
        [
            _traffic_row(r, "outbound", "sent", r["carrier_message_id"], now)
            for r in ours
            if r["status"] == "sent"
        ],
    )
    await sandbox_store.set_traffic_statuses(
        conn, [(r["id"], r["status"]) for r in ours if r["status"] in TERMINAL], now
    )


async def record_inbound(
    conn: AsyncConnection, message: dict[str, Any], carrier_message_id: str | None, now: datetime
) -> None:
    await sandbox_store.insert_traffic(
        conn, _traffic_row(message, "inbound", "received", carrier_message_id, now)
    )


async def handset_send(
    rt: Runtime,
    network: HandsetNetwork,
    *,
    handset: str,
    to: str,
    text: str,
    message_type: Literal["SMS", "MMS", "WHATSAPP"],
    media_urls: tuple[str, ...],
) -> dict[str, Any]:
    """A virtual handset sends a message to `to`; what the network did with it.

    The message enters through the carrier's events path, exactly as a phone's message from
    a real network does, and this returns once it is stored (or dropped).
    """
    carrier_id = await network.handset_sends(handset, to, text, message_type, media_urls)
    async with rt.read() as conn:
        traffic = await sandbox_store.traffic_by_carrier_ref(conn, carrier_id)
        if traffic is not None:
            return traffic
        unrouted = await inbound_store.unrouted_by_carrier_ref(conn, CARRIER, carrier_id)
    now = utcnow()
    return {
        "id": unrouted["id"] if unrouted else new_id(),
        "account_id": None,
        "direction": "inbound",
        "handset": handset,
        "number": to,
        "message_id": None,
        "type": message_type,
        "text": text,
        "media": list(media_urls),
        "status": "dropped",
        "carrier_message_id": carrier_id,
        "created_at": unrouted["received_at"] if unrouted else now,
        "updated_at": now,
    }


async def list_traffic(
    rt: Runtime,
    account_id: str,
    *,
    handset: str | None = None,
    number: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    page_number: int = 1,
    page_size: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    async with rt.read() as conn:
        return await sandbox_store.list_traffic(
            conn,
            account_id,
            handset=handset,
            number=number,
            direction=direction,
            since=since,
            page_number=page_number,
            page_size=page_size,
        )
