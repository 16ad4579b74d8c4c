"""A server per backend with a fast retry schedule, a receiver per test, and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import telnyx

from tests.conftest import POSTGRES_URL, skip_without_postgres
from tests.harness import Server, new_number, postgres_database, wait_for
from tests.webhooks_e2e.receiver import Receiver

# Three rounds 0.2 s and 0.5 s apart; receivers get 0.5 s to answer.
FAST_ENV = {
    "SWITCHBOARD_WEBHOOKS__RETRY_SCHEDULE": "0,0.2s,0.5s",
    "SWITCHBOARD_WEBHOOKS__TIMEOUT": "0.5",
    "SWITCHBOARD_WEBHOOKS__POLL_INTERVAL": "0.2",
    "SWITCHBOARD_WEBHOOKS__PER_HOST_LIMIT": "4",
}

TERMINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired"}


def database_for(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'webhooks.db'}"
        return
    skip_without_postgres()
    yield from postgres_database(POSTGRES_URL)


def running_server(db_url: str, workdir: Path, **env: str) -> Iterator[Server]:
    server = Server(db_url, workdir, env={**FAST_ENV, **env})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package", params=["sqlite", "postgres"])
def wh_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("webhooks")
    for db_url in database_for(str(request.param), workdir):
        yield from running_server(db_url, workdir)


@pytest.fixture
def wh_client(wh_server: Server) -> telnyx.Telnyx:
    return wh_server.client()


@pytest.fixture(scope="package")
def public_key(wh_server: Server) -> str:
    """The webhook public key as `switchboard keys show` prints it."""
    return wh_server.cli("keys", "show").strip()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    try:
        yield rec
    finally:
        rec.stop()


def make_sender(client: telnyx.Telnyx, **profile: Any) -> tuple[str, str]:
    """A new profile (with `profile` fields) and a long code on it: (number, profile id)."""
    created = client.messaging_profiles.create(
        name="Webhooks", whitelisted_destinations=["US"], **profile
    ).data
    assert created is not None and created.id
    number = new_number("+1773555")
    client.number_orders.create(
        phone_numbers=[{"phone_number": number}], messaging_profile_id=created.id
    )
    return number, created.id


@pytest.fixture
def sender(wh_client: telnyx.Telnyx) -> str:
    return make_sender(wh_client)[0]


def final(client: telnyx.Telnyx, message_id: str, timeout: float = 10.0) -> Any:
    def done() -> Any:
        data = client.messages.retrieve(message_id).data
        assert data is not None and data.to
        return data if data.to[0].status in TERMINAL else None

    return wait_for(done, timeout)


def deliveries_of(server: Server, message_id: str) -> list[dict[str, Any]]:
    return server.query(
        "SELECT id, event_type, status FROM webhook_deliveries WHERE message_id = :m "
        "ORDER BY created_at",
        m=message_id,
    )


def settled(server: Server, message_id: str, count: int) -> bool:
    rows = deliveries_of(server, message_id)
    return len(rows) == count and all(r["status"] in ("delivered", "failed") for r in rows)
