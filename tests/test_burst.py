"""A concurrent burst of 10,000 sends: each stored once, with the right parts and statuses.

Why: the performance work (batched writes, group commit, fewer round trips per send,
faster dispatch) changes *how* an accepted message is stored and moved along, and the
failures that such changes invite only show under concurrency: a row written twice or not
at all, an answer whose id is not the stored row's, parts counted from the wrong text, a
message claimed twice and submitted twice, a status transition recorded twice or skipped.
This test fires 10,000 `POST /v2/messages` at one server, 64 at a time, and then checks
every answer, every stored row, every event history and the sandbox network's record
against expectations computed here, independently of the production encoder.

It runs on its own server and database per backend, so no other test's messages count.
The SDK never retries (`max_retries=0`): every request is sent once, so each row must
match exactly one answer, and a failed request shows as a failure instead of being resent
(which would leave a second row that is the client's doing, or cover for a dropped one).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import telnyx

from switchboard.services.events import history as status_history
from tests.conftest import fresh_database
from tests.harness import Server, new_number

# The test's own bound: sending (at least ~60 msg/s before the performance work) plus the
# wait for final statuses, well inside this.
pytestmark = pytest.mark.timeout(900)

BURST = 10_000
CONCURRENCY = 64
FINAL_TIMEOUT = 300.0  # seconds after the last answer for every message to be final
TAG_LENGTH = 6  # every text starts with f"{i:05d} ": six basic GSM-7 characters


@dataclass(frozen=True)
class Body:
    """A message body after the per-message tag, and how Telnyx must encode it.

    The counts are worked out by hand (GSM-7: 160 septets in one part, 153 per part when
    concatenated, the extension characters `{}[]~^|\\€` cost two septets and an escape
    pair is never split across parts; UCS-2: 70 UTF-16 units in one part, 67 per part,
    a surrogate pair such as an emoji costs two units and is never split).
    """

    name: str
    rest: str
    encoding: str
    parts: int

    def text(self, index: int) -> str:
        return f"{index:05d} {self.rest}"

    @property
    def num_chars(self) -> int:
        return TAG_LENGTH + len(self.rest)  # Unicode code points, as the API reports


BODIES: tuple[Body, ...] = (
    Body("short", "hello from the burst", "GSM-7", 1),
    Body("gsm7 at the one-part limit", "a" * 154, "GSM-7", 1),  # 160 septets
    Body("gsm7 just over one part", "b" * 155, "GSM-7", 2),  # 161 septets
    Body("gsm7 at the two-part limit", "c" * 300, "GSM-7", 2),  # 306 = 2 x 153
    Body("gsm7 just over two parts", "d" * 301, "GSM-7", 3),  # 307 septets
    Body("extension chars, one part", "{" * 77, "GSM-7", 1),  # 6 + 77 x 2 = 160 septets
    Body("extension chars, two parts", "€" * 78, "GSM-7", 2),  # 6 + 78 x 2 = 162 septets
    # 6 + 146 = 152 septets; '^' (2) does not fit in 153, so part 2 starts with it and
    # holds 2 + 152 = 154 > 153: three parts, though 306 septets would fit two.
    Body("escape pair not split", "x" * 146 + "^" + "y" * 152, "GSM-7", 3),
    Body("ucs2 at the one-part limit", "😀" + "u" * 62, "UCS-2", 1),  # 6 + 2 + 62 = 70 units
    Body("ucs2 just over one part", "😀" + "v" * 63, "UCS-2", 2),  # 71 units
    # 6 + 60 = 66 units; the emoji (2) does not fit in 67, so part 2 holds 2 + 66 = 68 > 67:
    # three parts, though 134 units would fit two.
    Body("surrogate pair not split", "w" * 60 + "😀" + "z" * 66, "UCS-2", 3),
)


@dataclass(frozen=True)
class Outcome:
    """What the sandbox network does with a destination (docs/sandbox.md)."""

    status: str
    events: tuple[str, ...]
    error_code: str | None

    @property
    def reaches_handset(self) -> bool:
        return "sent" in self.events


DELIVERED = Outcome("delivered", ("queued", "sending", "sent", "delivered"), None)
MAGIC: dict[str, Outcome] = {
    "+13125550101": Outcome("sending_failed", ("queued", "sending", "sending_failed"), "40012"),
    "+16465550102": Outcome(
        "delivery_failed", ("queued", "sending", "sent", "delivery_failed"), "40008"
    ),
    "+12125550103": Outcome(
        "delivery_unconfirmed", ("queued", "sending", "sent", "delivery_unconfirmed"), None
    ),
    "+17185550106": Outcome("expired", ("queued", "sending", "sent", "expired"), "40005"),
    "+14155550107": Outcome(
        "delivery_failed", ("queued", "sending", "sent", "delivery_failed"), "40006"
    ),
}
MAGIC_NUMBERS = tuple(MAGIC)
DESTINATION_CYCLE = 50  # of every 50 messages, len(MAGIC) go to a magic destination


@dataclass(frozen=True)
class Planned:
    index: int
    sender: str
    to: str
    text: str
    body: Body
    outcome: Outcome


@dataclass
class Answer:
    index: int
    status_code: int | None = None
    data: Any = None
    error: str | None = None


def destination(index: int) -> str:
    slot = index % DESTINATION_CYCLE
    if slot < len(MAGIC_NUMBERS):
        return MAGIC_NUMBERS[slot]
    return f"+1415555{2000 + slot:04d}"  # ordinary handsets: delivered


def plan(senders: list[str]) -> list[Planned]:
    planned = []
    for i in range(BURST):
        body = BODIES[i % len(BODIES)]
        to = destination(i)
        planned.append(
            Planned(
                index=i,
                sender=senders[(i // len(BODIES)) % len(senders)],
                to=to,
                text=body.text(i),
                body=body,
                outcome=MAGIC.get(to, DELIVERED),
            )
        )
    return planned


async def send_all(server: Server, planned: list[Planned]) -> list[Answer]:
    """Every send at once, at most CONCURRENCY in flight; never retried."""
    # Drop idle connections well before the server does (uvicorn closes them after 5 s,
    # httpx's default expiry is also 5 s): with equal timeouts a request can go out on a
    # connection the server is closing that instant and fail with ReadError('') before the
    # server reads it. Seen 1-3 times per 10,000 sends with max_retries=0.
    limits = httpx.Limits(
        max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY, keepalive_expiry=1.0
    )
    http = telnyx.DefaultAsyncHttpxClient(limits=limits, timeout=httpx.Timeout(60.0, connect=10.0))
    gate = asyncio.Semaphore(CONCURRENCY)
    async with telnyx.AsyncTelnyx(
        api_key=server.api_key,
        base_url=server.api_url,
        _strict_response_validation=True,
        max_retries=0,
        http_client=http,
    ) as client:

        async def one(p: Planned) -> Answer:
            answer = Answer(p.index)
            async with gate:
                try:
                    raw = await client.messages.with_raw_response.send(
                        from_=p.sender, to=p.to, text=p.text
                    )
                    answer.status_code = raw.status_code
                    answer.data = (await raw.parse()).data
                except telnyx.APIStatusError as exc:
                    answer.status_code = exc.status_code
                    answer.error = f"{exc.status_code} {exc.body!r}"
                except telnyx.APIError as exc:  # connection, timeout, response validation
                    answer.error = (
                        f"{type(exc).__name__}: {exc} (cause: {exc.__cause__!r}) "
                        f"at {datetime.now():%H:%M:%S.%f}"  # to find it in the server log
                    )
            return answer

        return await asyncio.gather(*(one(p) for p in planned))


def as_list(value: Any) -> list[Any]:
    """A JSON column read through a raw query: a string on both backends, or already parsed."""
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, list), parsed
    return parsed


# Server log lines that mean something went wrong: a logged exception or warning, or a
# carrier receipt for a message already final (delivery.py logs "ignoring receipt ..."),
# which here can only come from a message submitted to the carrier twice.
TROUBLE = ("Traceback", " WARNING ", " ERROR ", " CRITICAL ", "ignoring receipt")


def server_errors(server: Server) -> str:
    """The first troubling stretch of the server's log, with its count; "" when clean."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    bad = [n for n, line in enumerate(lines) if any(t in line for t in TROUBLE)]
    if not bad:
        return ""
    first = bad[0]
    excerpt = "\n".join(lines[max(0, first - 5) : first + 40])
    return f"{len(bad)} troubling lines in {server.log_path}, from line {first + 1}:\n{excerpt}"


def sample(items: list[Any], n: int = 5) -> str:
    return f"{len(items)} in all, e.g. {items[:n]!r}"


@pytest.fixture(params=["sqlite", "postgres"])
def burst_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path, "burst.db")


def test_burst_of_10000_sends_is_stored_once_with_right_parts_and_statuses(
    burst_db: str, tmp_path: Path
) -> None:
    server = Server(burst_db, tmp_path)  # harness: lifted throughput limits, sandbox network
    server.start()
    try:
        run_burst(server)
    finally:
        server.stop()


def run_burst(server: Server) -> None:
    client = server.client()
    profile = client.messaging_profiles.create(name="Burst", whitelisted_destinations=["US"]).data
    assert profile is not None and profile.id
    senders = [new_number() for _ in range(4)] + [new_number("+1844555")]  # + a toll-free
    client.number_orders.create(
        phone_numbers=[{"phone_number": s} for s in senders], messaging_profile_id=profile.id
    )
    accounts = server.query(
        "SELECT account_id FROM messaging_profiles WHERE id = :id", id=profile.id
    )
    account_id = accounts[0]["account_id"]
    planned = plan(senders)
    by_index = {p.index: p for p in planned}

    # 1. Every send answered 200, with a message of its own.
    started = time.monotonic()
    answers = asyncio.run(send_all(server, planned))
    accept_seconds = time.monotonic() - started
    print(f"\n{BURST} sends answered in {accept_seconds:.1f} s ({BURST / accept_seconds:.0f}/s)")
    failed = [(a.index, a.status_code, a.error) for a in answers if a.status_code != 200]
    assert not failed, f"every send must be answered 200: {sample(failed)}\n{server_errors(server)}"
    ids = {a.index: a.data.id if a.data else None for a in answers}
    assert all(ids.values()), "every answer must carry the message id"
    repeated = [i for i, n in Counter(ids.values()).items() if n > 1]
    assert not repeated, f"two sends were answered with the same message id: {sample(repeated)}"

    # 2. Each answer describes the message sent, with parts and encoding counted right.
    wrong_answers = []
    for a in answers:
        p, d = by_index[a.index], a.data
        got = (
            d.text,
            d.from_.phone_number if d.from_ else None,
            [t.phone_number for t in d.to or []],
            [t.status for t in d.to or []],
            d.direction,
            d.type,
            d.messaging_profile_id,
            d.encoding,
            d.parts,
            d.num_chars,
        )
        want = (
            p.text,
            p.sender,
            [p.to],
            ["queued"],
            "outbound",
            "SMS",
            profile.id,
            p.body.encoding,
            p.body.parts,
            p.body.num_chars,
        )
        if got != want:
            wrong_answers.append((p.body.name, got[1:], want[1:]))
    assert not wrong_answers, (
        "answers (from, to, to status, direction, type, profile, encoding, parts, num_chars) "
        f"must match the request and the hand-counted encoding: {sample(wrong_answers, 3)}"
    )

    # 3. Exactly one stored row per answered id, no extras. Every answer was a 200, so
    # every row is committed by now: a wrong count will not mend itself by waiting.
    stored_ids = server.query("SELECT id, text FROM messages")
    index_of = {message_id: i for i, message_id in ids.items()}
    stored_id_set = {r["id"] for r in stored_ids}
    assert len(stored_ids) == BURST and stored_id_set == set(index_of), (
        f"{BURST} sends must store exactly the {BURST} answered ids, found {len(stored_ids)} "
        f"rows; missing {sample(sorted(set(index_of) - stored_id_set))}, extra "
        f"{sample(sorted(stored_id_set - set(index_of)))}"
    )
    twice = [t for t, n in Counter(r["text"] for r in stored_ids).items() if n > 1]
    assert not twice, f"a text (unique per send) was stored twice: {sample(twice, 2)}"

    # 4. Every message reaches its final status within a bounded wait.
    expected_statuses = Counter(p.outcome.status for p in planned)
    deadline = time.monotonic() + FINAL_TIMEOUT
    while True:
        rows = server.query("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
        counts = Counter({r["status"]: int(r["n"]) for r in rows})
        if counts == expected_statuses or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    final_seconds = time.monotonic() - started
    print(f"all final {final_seconds:.1f} s after the first send")
    assert counts == expected_statuses, (
        f"{FINAL_TIMEOUT:.0f} s after the burst the messages table holds {dict(counts)}, "
        f"expected {dict(expected_statuses)}\n{server_errors(server)}"
    )

    # 5. Each stored row is the message sent, with its final status, submitted once.
    stored = server.query(
        "SELECT id, account_id, direction, type, from_address, to_address, text, sent_text, "
        "encoding, parts, num_chars, status, errors, attempts, carrier, carrier_message_id "
        "FROM messages"
    )
    rows_by_id = {r["id"]: r for r in stored}
    assert set(rows_by_id) == stored_id_set, "rows appeared or vanished while waiting"
    wrong_rows = []
    for message_id, r in rows_by_id.items():
        p = by_index[index_of[message_id]]
        errors = as_list(r["errors"])
        got_row = (
            r["account_id"],
            r["direction"],
            r["type"],
            r["from_address"],
            r["to_address"],
            r["text"],
            r["sent_text"],
            r["encoding"],
            r["parts"],
            r["num_chars"],
            r["status"],
            [e.get("code") for e in errors],
            r["attempts"],
            r["carrier"],
            r["carrier_message_id"],
        )
        want_row = (
            account_id,
            "outbound",
            "SMS",
            p.sender,
            p.to,
            p.text,
            p.text,
            p.body.encoding,
            p.body.parts,
            p.body.num_chars,
            p.outcome.status,
            [p.outcome.error_code] if p.outcome.error_code else [],
            1,  # claimed once: a second claim is a second submission to the carrier
            "sandbox",
            f"sbx-{message_id}" if p.outcome.reaches_handset else None,
        )
        if got_row != want_row:
            wrong_rows.append((message_id, p.body.name, got_row[3:], want_row[3:]))
    assert not wrong_rows, (
        "stored rows (from, to, text, sent_text, encoding, parts, num_chars, status, error "
        f"codes, attempts, carrier, carrier id) must match: {sample(wrong_rows, 3)}"
    )

    # 6. Each message's history is its path through the state machine, each step once: the
    # status it was created in (its row's), then its stored events.
    events = server.query(
        "SELECT message_id, account_id, status, occurred_at, id FROM message_events "
        "ORDER BY message_id, occurred_at, id"
    )
    stored_events: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        assert e["account_id"] == account_id, f"event of another account: {e}"
        stored_events.setdefault(e["message_id"], []).append(e)
    assert set(stored_events) <= set(rows_by_id), (
        f"events of messages never stored: {sample(sorted(set(stored_events) - set(rows_by_id)))}"
    )
    created = server.query("SELECT id, send_at, received_at FROM messages")
    history = {
        r["id"]: [
            e["status"]
            for e in status_history({**rows_by_id[r["id"]], **r}, stored_events.get(r["id"], []))
        ]
        for r in created
    }
    wrong_history = [
        (message_id, statuses, by_index[index_of[message_id]].outcome.events)
        for message_id, statuses in history.items()
        if tuple(statuses) != by_index[index_of[message_id]].outcome.events
    ]
    assert not wrong_history, (
        "each message must record its status transitions once each, in order "
        f"(no duplicated or missing step): {sample(wrong_history, 3)}"
    )

    # 7. The simulated network got each message it accepted exactly once, as sent.
    traffic = server.query(
        "SELECT message_id, account_id, handset, number, text, status FROM sandbox_messages "
        "WHERE direction = 'outbound'"
    )
    on_network = Counter(t["message_id"] for t in traffic)
    should_reach = {m for m, i in index_of.items() if by_index[i].outcome.reaches_handset}
    assert set(on_network) == should_reach and all(n == 1 for n in on_network.values()), (
        f"every message the carrier accepted (and no other) reaches its handset once: "
        f"{len(traffic)} records for {len(should_reach)} accepted messages; missing "
        f"{sample(sorted(should_reach - set(on_network)))}, unexpected "
        f"{sample(sorted(set(on_network) - should_reach))}"
    )
    wrong_traffic = []
    for t in traffic:
        p = by_index[index_of[t["message_id"]]]
        got_t = (t["account_id"], t["handset"], t["number"], t["text"], t["status"])
        want_t = (account_id, p.to, p.sender, p.text, p.outcome.status)
        if got_t != want_t:
            wrong_traffic.append((t["message_id"], got_t[1:], want_t[1:]))
    assert not wrong_traffic, (
        f"handset records (handset, number, text, status) must match: {sample(wrong_traffic, 3)}"
    )

    # 8. Nothing went wrong inside the server on the way, and no receipt came twice.
    trouble = server_errors(server)
    assert not trouble, f"the server logged trouble during the burst: {trouble}"
