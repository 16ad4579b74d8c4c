"""API and worker processes apart: many workers on PostgreSQL, an API process and a worker on
one SQLite file; each message sent once, the workers woken by the API process."""

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
    run_split(pg_url, tmp_path, workers=2, burst=BURST)


def test_api_and_worker_on_one_sqlite_file(tmp_path: Path) -> None:
    # A long poll interval: only the wake-up datagrams can make delivery fast here.
    run_split(f"sqlite:///{tmp_path / 'split.db'}", tmp_path, workers=1, burst=BURST // 3)


def run_split(db_url: str, tmp_path: Path, *, workers: int, burst: int) -> None:
    slow_poll = {"SWITCHBOARD_DISPATCHER__POLL_INTERVAL": "30"}
    api = Server(db_url, tmp_path, env=slow_poll, role="api")
    api.start()
    worker_servers = [
        Server(
            db_url, tmp_path, env={**slow_poll, "SWITCHBOARD_API_KEY": api.api_key}, role="worker"
        )
        for _ in range(workers)
    ]
    try:
        for worker in worker_servers:
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
            ids = list(pool.map(send, range(burst)))

        def all_delivered() -> bool:
            rows = api.query("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
            return {r["status"]: r["n"] for r in rows} == {"delivered": burst}

        # Well inside the 30 s poll interval: the API process woke the workers.
        wait_for(all_delivered, timeout=20, interval=0.2)
        sent_events = api.query(
            "SELECT message_id, COUNT(*) AS n FROM message_events WHERE status = 'sent' "
            "GROUP BY message_id"
        )
        assert {r["message_id"] for r in sent_events} == set(ids)
        assert all(r["n"] == 1 for r in sent_events), "a message was sent twice"
    finally:
        for worker in worker_servers:
            worker.stop()
        api.stop()
