"""Sending and reading messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain import errors
from switchboard.domain.clock import utcnow
from switchboard.domain.encoding import MAX_PARTS, UnencodableText, analyze
from switchboard.domain.errors import ApiError
from switchboard.domain.ids import is_uuid, new_id
from switchboard.domain.phone import InvalidNumber, PhoneNumber, parse_e164
from switchboard.domain.pricing import message_cost
from switchboard.services import events, scheduling, senders
from switchboard.services.accept_batch import batcher_of
from switchboard.services.runtime import Runtime
from switchboard.services.senders import Sender
from switchboard.store import messages as message_store
from switchboard.store import sending as sending_store

SenderMode = Literal["any", "long_code", "short_code", "number_pool", "alphanumeric", "group_mms"]

# Runs inside the accepting transaction with the new rows (e.g. to store the response an
# Idempotency-Key replays): if it raises, nothing is accepted.
AcceptHook = Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[None]]

MAX_GROUP_RECIPIENTS = 8


@dataclass
class SendRequest:
    """A validated send request (shapes checked by the API; rules checked here).

    `to` is one address, or for group MMS a list of them (one stored row per recipient).
    """

    to: str | list[str]
    from_: str | None = None
    messaging_profile_id: str | None = None
    text: str | None = None
    media_urls: list[str] = field(default_factory=list)
    subject: str | None = None
    type: Literal["SMS", "MMS"] | None = None
    auto_detect: bool = False
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    send_at: datetime | None = None  # set: the message waits as `scheduled` until then


def _parse_to(value: str, pointer: str = "/to") -> Any:
    try:
        return parse_e164(value)
    except InvalidNumber as exc:
        raise ApiError(errors.INVALID_TO, f"'to' {exc.reason}.", pointer=pointer) from exc


def _destinations(request: SendRequest, mode: SenderMode) -> list[PhoneNumber]:
    if mode != "group_mms":
        assert isinstance(request.to, str)
        return [_parse_to(request.to)]
    recipients = request.to if isinstance(request.to, list) else [request.to]
    if not 1 <= len(recipients) <= MAX_GROUP_RECIPIENTS:
        raise ApiError(
            errors.INVALID_PARAMETER,
            f"A group MMS goes to 1 to {MAX_GROUP_RECIPIENTS} recipients, not {len(recipients)}.",
            pointer="/to",
        )
    parsed: list[PhoneNumber] = []
    for index, value in enumerate(recipients):
        number = _parse_to(value, f"/to/{index}")
        if any(p.e164 == number.e164 for p in parsed):
            raise ApiError(
                errors.INVALID_PARAMETER, f"{number.e164} is listed twice.", pointer=f"/to/{index}"
            )
        parsed.append(number)
    return parsed


def _message_type(request: SendRequest, mode: SenderMode) -> Literal["SMS", "MMS"]:
    if mode == "group_mms":  # always MMS; text, media or both
        if not request.text and not request.media_urls:
            raise ApiError(
                errors.NO_CONTENT, "A group MMS needs text, media_urls or both.", pointer="/text"
            )
        return "MMS"
    message_type = request.type or ("MMS" if request.media_urls else "SMS")
    if message_type == "SMS" and request.media_urls:
        raise ApiError(
            errors.INVALID_PARAMETER, "type SMS cannot carry media_urls; use MMS.", pointer="/type"
        )
    if message_type == "MMS" and not request.media_urls:
        raise ApiError(errors.MISSING_PARAMETER, "MMS needs media_urls.", pointer="/media_urls")
    if message_type == "SMS" and not request.text:
        raise ApiError(
            errors.MISSING_PARAMETER, "The 'text' parameter is required.", pointer="/text"
        )
    return message_type


@dataclass(frozen=True)
class _Body:
    sent_text: str
    encoding: str
    parts: int
    num_chars: int
    smart_applied: bool


def _encode(request: SendRequest, message_type: str) -> _Body:
    text = request.text or ""
    if message_type != "SMS":  # MMS text is UTF-8 and not segmented
        return _Body(text, "UTF-8", 1, len(text), False)
    try:
        encoded = analyze(text, request.encoding)
    except UnencodableText as exc:
        raise ApiError(
            errors.UNENCODABLE_TEXT,
            f"Character {exc.char!r} at position {exc.index} is not in the GSM-7 alphabet.",
            pointer="/text",
        ) from exc
    if request.auto_detect and encoded.parts > MAX_PARTS:
        raise ApiError(
            errors.TOO_MANY_PARTS,
            f"The text needs {encoded.parts} parts; at most {MAX_PARTS} are allowed.",
            pointer="/text",
        )
    return _Body(
        encoded.text,
        encoded.encoding,
        encoded.parts,
        encoded.num_chars,
        encoded.smart_encoding_applied,
    )


async def _resolve_sender(
    conn: AsyncConnection,
    rt: Runtime,
    account_id: str,
    request: SendRequest,
    mode: SenderMode,
    destination: PhoneNumber,
) -> Sender:
    """The sender the endpoint and the body call for (messages.md §4)."""
    if _is_pool_send(request, mode):  # `from` is not taken on /messages/number_pool
        return await senders.pool_sender(
            conn, rt.rng, account_id, request.messaging_profile_id, destination.e164
        )
    if request.from_ is None:
        raise ApiError(
            errors.MISSING_PARAMETER,
            "The 'from' parameter is required (a number of this account), or "
            "'messaging_profile_id' to send from the profile's number pool.",
            pointer="/from",
        )
    kind = _sender_kind(request.from_, mode)
    if kind == "short_code":
        return await senders.short_code_sender(conn, account_id, request.from_)
    if kind == "alphanumeric":
        return await senders.alphanumeric_sender(
            conn, account_id, request.from_, request.messaging_profile_id, destination
        )
    if kind is None:
        raise senders.invalid_from(
            f"'{request.from_}' is not a +E.164 number, a short code or an alphanumeric sender id."
        )
    return await senders.phone_number_sender(
        conn, account_id, request.from_, request.messaging_profile_id
    )


def _is_pool_send(request: SendRequest, mode: SenderMode) -> bool:
    return mode == "number_pool" or (
        mode == "any" and request.from_ is None and request.messaging_profile_id is not None
    )


def _sender_kind(from_: str, mode: SenderMode) -> str | None:
    return {
        "short_code": "short_code",
        "alphanumeric": "alphanumeric",
        "any": senders.sender_type_of(from_),
    }.get(mode, "phone_number")


async def _sender(
    rt: Runtime,
    account_id: str,
    request: SendRequest,
    mode: SenderMode,
    destination: PhoneNumber,
) -> Sender:
    """`_resolve_sender`, through the runtime's sender cache where the answer is stable.

    A pool choice depends on the pool's state and chance, so it is made afresh each time;
    an alphanumeric sender depends on whether the destination is in the US.
    """

    async def resolve() -> Sender:
        async with rt.read() as conn:
            return await _resolve_sender(conn, rt, account_id, request, mode, destination)

    if _is_pool_send(request, mode):
        return await resolve()
    key = (account_id, mode, request.from_, request.messaging_profile_id)
    return await rt.sender_cache.get_or_load((*key, destination.country == "US"), resolve)


@dataclass
class PreparedSend:
    """A send that passed every check needing no transaction; `rows` get their times
    (received, expiry, first attempt) when their batch stores them.

    What is left (opt-outs, short links, the spend limit, throughput, the insert) runs in the
    transaction of a batch of sends (services/accept_batch.py).
    """

    request: SendRequest
    sender: Sender
    destinations: list[PhoneNumber]
    rows: list[dict[str, Any]]
    on_accepted: AcceptHook | None = None


async def send_message(
    rt: Runtime,
    account_id: str,
    request: SendRequest,
    mode: SenderMode = "any",
    *,
    on_accepted: AcceptHook | None = None,
) -> dict[str, Any]:
    """Accept a message to one recipient; its stored row (see `accept_messages`)."""
    rows = await accept_messages(rt, account_id, request, mode, on_accepted=on_accepted)
    return rows[0]


async def accept_messages(
    rt: Runtime,
    account_id: str,
    request: SendRequest,
    mode: SenderMode = "any",
    *,
    on_accepted: AcceptHook | None = None,
) -> list[dict[str, Any]]:
    """Accept a message for sending: validate, price, store as `queued`, wake the dispatcher.

    One row per recipient (several only for group MMS, sharing a `group_id`). The rows
    commit before this returns, so an accepted message survives any crash after it. With
    `send_at` the rows wait as `scheduled`. Concurrent sends share one transaction
    (services/accept_batch.py); each still fails or succeeds on its own.
    """
    prepared = await prepare(rt, account_id, request, mode, on_accepted=on_accepted)
    return await batcher_of(rt).accept(prepared)


async def prepare(
    rt: Runtime,
    account_id: str,
    request: SendRequest,
    mode: SenderMode = "any",
    *,
    on_accepted: AcceptHook | None = None,
) -> PreparedSend:
    """Check a send and build its rows; nothing is written."""
    destinations = _destinations(request, mode)
    message_type = _message_type(request, mode)
    now = utcnow()
    if request.send_at is not None:
        scheduling.check_send_at(rt, request.send_at, now)
    body = _encode(request, message_type)
    sender = await _sender(rt, account_id, request, mode, destinations[0])
    alphanumeric = not _is_pool_send(request, mode) and (
        _sender_kind(request.from_ or "", mode) == "alphanumeric"
    )
    if alphanumeric and (request.media_urls or request.type == "MMS"):
        raise ApiError(
            errors.INVALID_PARAMETER,
            "Alphanumeric sender ids send SMS only; leave out media_urls.",
            pointer="/media_urls" if request.media_urls else "/type",
        )
    profile = sender.profile
    group_id = new_id() if mode == "group_mms" else None
    # Time-ordered ids in recipient order, so a group lists its recipients as sent.
    ids = sorted(new_id() for _ in destinations)
    rows: list[dict[str, Any]] = []
    for message_id, destination in zip(ids, destinations, strict=True):
        _check_profile_allows(profile, destination.country)
        rows.append(
            {
                "id": message_id,
                "account_id": account_id,
                "group_id": group_id,
                "direction": "outbound",
                "type": message_type,
                "messaging_profile_id": profile["id"],
                "from_address": sender.address,
                "sender_type": sender.type,
                "from_line_type": sender.line_type,
                "to_address": destination.e164,
                "to_line_type": destination.line_type,
                "to_country": destination.country,
                "cc": [],
                "text": request.text or "",
                "sent_text": body.sent_text,
                "subject": request.subject,
                "media": [
                    {"url": u, "content_type": None, "sha256": None, "size": None}
                    for u in request.media_urls
                ],
                "encoding": body.encoding,
                "parts": body.parts,
                "num_chars": body.num_chars,
                "smart_encoding_applied": body.smart_applied,
                "tags": [],
                "errors": [],
                "cost_amount": message_cost(
                    rt.settings.rates, message_type, destination.country, body.parts
                ),
                "cost_currency": rt.settings.currency,
                "status": "queued" if request.send_at is None else "scheduled",
                "send_at": request.send_at,
                "sent_at": None,
                "completed_at": None,
                "wait_seconds": 0.0,
                "next_attempt_at": None,
                "claimed_by": None,
                "claimed_at": None,
                "attempts": 0,
                "carrier": None,
                "carrier_message_id": None,
                "webhook_url": request.webhook_url,
                "webhook_failover_url": request.webhook_failover_url,
                "use_profile_webhooks": request.use_profile_webhooks,
            }
        )
    return PreparedSend(request, sender, destinations, rows, on_accepted)


def _check_profile_allows(profile: dict[str, Any], country: str) -> None:
    if not profile["enabled"]:
        raise ApiError(errors.PROFILE_DISABLED, "The messaging profile is disabled.")
    allowed = profile["whitelisted_destinations"] or []
    if "*" not in allowed and country not in allowed:
        raise ApiError(
            errors.DESTINATION_NOT_ALLOWED,
            f"Destination country {country} is not in the profile's whitelisted_destinations.",
            pointer="/to",
        )


async def get_message(rt: Runtime, account_id: str, message_id: str) -> dict[str, Any]:
    """A message of the account within the retention window (404 outside it)."""
    if not is_uuid(message_id):
        raise ApiError(errors.NOT_FOUND, "The requested message could not be found.")
    cutoff = utcnow() - timedelta(days=rt.settings.message_retention_days)
    async with rt.read_one() as conn:
        row = await message_store.get_message(conn, account_id, message_id, received_after=cutoff)
    if row is None:
        raise ApiError(errors.NOT_FOUND, "The requested message could not be found.")
    return row


async def get_group(rt: Runtime, account_id: str, group_id: str) -> list[dict[str, Any]]:
    """The recipient messages of a group MMS within the retention window (404 otherwise)."""
    rows: list[dict[str, Any]] = []
    if is_uuid(group_id):
        async with rt.read() as conn:
            rows = await sending_store.group_rows(
                conn, account_id, group_id, received_after=retention_cutoff(rt)
            )
    if not rows:
        raise ApiError(errors.NOT_FOUND, "The requested group message could not be found.")
    return rows


async def get_message_or_group(
    rt: Runtime, account_id: str, message_id: str
) -> tuple[list[dict[str, Any]], bool]:
    """A message by its id, or a group MMS by its group id (what its send returned as
    `data.id`): the rows, and whether they are a group."""
    try:
        return [await get_message(rt, account_id, message_id)], False
    except ApiError as exc:
        if exc.kind is not errors.NOT_FOUND:
            raise
        try:
            return await get_group(rt, account_id, message_id), True
        except ApiError:
            raise exc from None


def retention_cutoff(rt: Runtime, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=rt.settings.message_retention_days)


# --- browsing (the console) ------------------------------------------------------------


async def list_recent(
    rt: Runtime,
    account_id: str,
    *,
    number: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Messages of both directions within the retention window, newest first."""
    async with rt.read() as conn:
        return await message_store.list_recent(
            conn,
            account_id,
            received_after=retention_cutoff(rt),
            number=number,
            direction=direction,
            status=status,
            limit=limit,
            offset=offset,
        )


async def get_message_history(
    rt: Runtime, account_id: str, message_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A message (404 outside the retention window) and its statuses, oldest first."""
    row = await get_message(rt, account_id, message_id)
    async with rt.read() as conn:
        stored = await message_store.events_for(conn, message_id)
    return row, events.history(row, stored)


async def list_conversations(
    rt: Runtime, account_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    """Each (handset, our number) pair with its latest message, most recent first."""
    async with rt.read() as conn:
        return await message_store.conversations(
            conn, account_id, received_after=retention_cutoff(rt), limit=limit
        )


async def conversation(
    rt: Runtime, account_id: str, handset: str, number: str
) -> list[dict[str, Any]]:
    """The messages between a handset and one of our numbers, oldest first."""
    async with rt.read() as conn:
        return await message_store.conversation(
            conn, account_id, handset, number, received_after=retention_cutoff(rt)
        )
