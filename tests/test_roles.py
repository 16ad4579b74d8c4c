"""API and worker processes apart, on PostgreSQL: many workers, each message sent once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, skip_without_postgres
from tests.harness import Server, new_number, postgres_database, wait_for

BURST = 300


@pytest.fixture
def pg_url() -> Iterator[str]:
    skip_without_postgres()
    yield from postgres_database(POSTGRES_URL)


def test_api_and_two_workers_share_the_queue(pg_url: str, tmp_path: Path) -> None:
    # A long poll interval: only LISTEN/NOTIFY can make delivery fast here.
    slow_poll = {"SWITCHBOARD_DISPATCHER__POLL_INTERVAL": "30"}
    api = Server(pg_url, tmp_path, env=slow_poll, role="api")
    api.start()
    workers = [
        Server(
            pg_url, tmp_path, env={**slow_poll, "SWITCHBOARD_API_KEY": api.api_key}, role="worker"
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            worker.start()
        client = api.client()
        profile = client.messaging_profiles.create(name="Roles", whitelisted_destinations=["US"])
        assert profile.data is not None and profile.data.id
        sender = new_number()
        client.number_orders.create(
            phone_numbers=[{"phone_number": sender}], messaging_profile_id=profile.data.id
        )

        def send(i: int) -> str:
            sent = client.messages.send(from_=sender, to="+13125550100", text=f"role {i}").data
            assert sent is not None and sent.id
            return sent.id

        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(send, range(BURST)))

        def all_delivered() -> bool:
            rows = api.query("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
            return {r["status"]: r["n"] for r in rows} == {"delivered": BURST}

        # Well inside the 30 s poll interval: the workers were woken by NOTIFY.
        wait_for(all_delivered, timeout=20, interval=0.2)
        sent_events = api.query(
            "SELECT message_id, COUNT(*) AS n FROM message_events WHERE status = 'sent' "
            "GROUP BY message_id"
        )
        assert {r["message_id"] for r in sent_events} == set(ids)
        assert all(r["n"] == 1 for r in sent_events), "a message was sent twice"
    finally:
        for worker in workers:
            worker.stop()
        api.stop()
