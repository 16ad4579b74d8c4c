"""Loopback and private webhook targets: refused in gateway mode unless allowed.

The address policy does not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Server
from tests.webhooks_e2e.conftest import make_sender, running_server, settled
from tests.webhooks_e2e.receiver import Receiver

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Server]:
    yield from running_server(
        f"sqlite:///{tmp_path / 'gw.db'}", tmp_path, SWITCHBOARD_MODE="gateway"
    )


def test_gateway_refuses_loopback_targets(gateway: Server, receiver: Receiver) -> None:
    client = gateway.client()
    number, _ = make_sender(client)
    sent = client.messages.send(
        from_=number,
        to="+13125550101",
        text="to loopback",
        webhook_url=receiver.url("/ok/private"),
        webhook_failover_url="http://169.254.169.254/latest/meta-data",
    )
    assert sent.data is not None and sent.data.id
    message_id = sent.data.id
    receiver.wait_for(lambda: settled(gateway, message_id, 1))
    assert receiver.hits == []
    page = client.webhook_deliveries.list(filter={"status": {"eq": "failed"}})
    delivery = next(d for d in page.data if d.webhook and d.webhook.payload["id"] == message_id)  # type: ignore[index]
    assert delivery.attempts and len(delivery.attempts) == 6
    assert all(a.errors == [75008] and a.http.response is None for a in delivery.attempts)  # type: ignore[union-attr]


def test_gateway_allows_private_targets_when_configured(tmp_path: Path, receiver: Receiver) -> None:
    for server in running_server(
        f"sqlite:///{tmp_path / 'gw-allow.db'}",
        tmp_path,
        SWITCHBOARD_MODE="gateway",
        SWITCHBOARD_WEBHOOKS__ALLOW_PRIVATE="true",
    ):
        client = server.client()
        number, _ = make_sender(client)
        sent = client.messages.send(
            from_=number, to="+13125550101", text="allowed", webhook_url=receiver.url("/ok/lan")
        )
        assert sent.data is not None and sent.data.id
        assert len(receiver.wait_hits(sent.data.id, 1)) == 1
