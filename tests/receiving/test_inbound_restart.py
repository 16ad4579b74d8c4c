"""A crash in the middle of an inbound burst loses nothing the network was told it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_database
from tests.harness import Server, wait_for
from tests.receiving.conftest import App, handset_sends, new_handset, open_line

pytestmark = pytest.mark.timeout(60)

BURST = 200
KILL_AFTER = 50  # acknowledged messages before the process is killed


@pytest.fixture(params=["sqlite", "postgres"])
def restart_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path, "inbound.db")


def test_kill_during_inbound_burst(restart_db: str, tmp_path: Path, app: App) -> None:
    server = Server(restart_db, tmp_path)
    server.start()
    try:
        client = server.client()
        line = open_line(client, app.url)
        handsets = [new_handset() for _ in range(10)]
        acked: dict[str, str] = {}  # message id → text, for every 200 the handset got
        lock = threading.Lock()
        enough = threading.Event()

        def send(i: int) -> None:
            text = "HELP" if i % 10 == 0 else f"burst {i}"
            try:
                data = handset_sends(client, handsets[i % 10], line.number, text)
            except Exception:  # the server died under this request: not acknowledged
                return
            with lock:
                acked[data["message_id"]] = text
                if len(acked) >= KILL_AFTER:
                    enough.set()

        with ThreadPoolExecutor(12) as pool:
            futures = [pool.submit(send, i) for i in range(BURST)]
            assert enough.wait(20), "the burst never got going"
            server.kill()
            for future in futures:
                future.result()
        assert KILL_AFTER <= len(acked) < BURST

        server.start()
        stored = server.query(
            "SELECT id, text, status FROM messages WHERE direction = 'inbound' AND to_address = :n",
            n=line.number,
        )
        ids = [r["id"] for r in stored]
        assert len(ids) == len(set(ids))
        assert set(acked) <= set(ids), "an acknowledged inbound message was lost"
        by_id = {r["id"]: r for r in stored}
        assert all(by_id[i]["text"] == text for i, text in acked.items())

        # Each stored message has exactly one traffic record and webhook (its arrival is
        # its row's first status, not an event: services/events.py).
        def one_each(table: str, where: str = "") -> None:
            counts = server.query(
                f"SELECT message_id AS m, COUNT(*) AS n FROM {table} "
                "WHERE message_id IN (SELECT id FROM messages WHERE to_address = :n) "
                f"{where} GROUP BY message_id",
                n=line.number,
            )
            assert {r["m"]: r["n"] for r in counts} == {i: 1 for i in ids}, table

        arrivals = server.query(
            "SELECT COUNT(*) AS n FROM message_events WHERE status = 'delivered' "
            "AND message_id IN (SELECT id FROM messages WHERE to_address = :n)",
            n=line.number,
        )
        assert arrivals[0]["n"] == 0
        one_each("sandbox_messages")
        one_each("webhook_deliveries")

        # Webhooks queued before the crash still reach the app; HELP replies still go out.
        wait_for(lambda: set(ids) <= received_ids(app), timeout=20, interval=0.2)
        webhook_delivered = (
            "SELECT COUNT(*) AS n FROM messages WHERE to_address = :n "
            "AND status = 'webhook_delivered'"
        )
        wait_for(
            lambda: server.query(webhook_delivered, n=line.number)[0]["n"] == len(ids),
            timeout=10,
            interval=0.2,
        )
        helps = [r["id"] for r in stored if r["text"] == "HELP"]
        wait_for(
            lambda: delivered_replies(server, line.number) == len(helps),
            timeout=20,
            interval=0.2,
        )

        # And the line keeps working.
        after = handset_sends(client, handsets[0], line.number, "after the crash")
        assert client.messages.retrieve(after["message_id"]).data is not None
    finally:
        server.stop()


def received_ids(app: App) -> set[str]:
    return {h.json["data"]["payload"]["id"] for h in app.received()}


def delivered_replies(server: Server, number: str) -> Any:
    rows = server.query(
        "SELECT status, COUNT(*) AS n FROM messages WHERE direction = 'outbound' "
        "AND from_address = :n GROUP BY status",
        n=number,
    )
    statuses = {r["status"]: r["n"] for r in rows}
    return statuses.get("delivered", 0) if set(statuses) <= {"delivered"} else -1
