"""Which URLs get a message's events: its own, then its profile's when it says so."""

from __future__ import annotations

import json

import pytest
import telnyx

from tests.harness import Server
from tests.webhooks_e2e.conftest import deliveries_of, final, make_sender, settled
from tests.webhooks_e2e.receiver import Receiver, verify

pytestmark = pytest.mark.timeout(30)


def test_profile_urls_used_unless_the_message_opts_out(
    wh_server: Server, wh_client: telnyx.Telnyx, receiver: Receiver, public_key: str
) -> None:
    profile_url = receiver.url("/ok/profile")
    number, _ = make_sender(wh_client, webhook_url=profile_url)

    with_profile = wh_client.messages.send(from_=number, to="+13125550100", text="uses profile")
    assert with_profile.data is not None and with_profile.data.id
    hits = receiver.wait_hits(with_profile.data.id, 2)
    assert [h.path for h in hits] == ["/ok/profile", "/ok/profile"]
    assert verify(hits[0], public_key).meta.delivered_to == profile_url

    opted_out = wh_client.messages.send(
        from_=number, to="+13125550100", text="no profile hooks", use_profile_webhooks=False
    )
    assert opted_out.data is not None and opted_out.data.id
    final(wh_client, opted_out.data.id)
    receiver.wait_for(lambda: settled(wh_server, with_profile.data.id, 2))  # type: ignore[union-attr]
    assert deliveries_of(wh_server, opted_out.data.id) == []
    assert receiver.hits_for(opted_out.data.id) == []


def test_message_urls_first_then_profile_urls(
    wh_server: Server, wh_client: telnyx.Telnyx, receiver: Receiver, public_key: str
) -> None:
    profile_url, profile_failover = receiver.url("/ok/p"), receiver.url("/ok/pf")
    number, _ = make_sender(
        wh_client, webhook_url=profile_url, webhook_failover_url=profile_failover
    )
    own, own_failover = receiver.url("/fail/own"), receiver.url("/fail/own-failover")
    sent = wh_client.messages.send(
        from_=number,
        to="+13125550101",  # refused: one event
        text="chain",
        webhook_url=own,
        webhook_failover_url=own_failover,
    )
    assert sent.data is not None and sent.data.id
    hits = receiver.wait_hits(sent.data.id, 3)
    receiver.wait_for(lambda: settled(wh_server, sent.data.id, 1))  # type: ignore[union-attr]
    assert [h.path for h in receiver.hits_for(sent.data.id)] == [
        "/fail/own",
        "/fail/own-failover",
        "/ok/p",
    ]
    assert verify(hits[2], public_key).meta.attempt == 3
    rows = wh_server.query(
        "SELECT targets FROM webhook_deliveries WHERE message_id = :m", m=sent.data.id
    )
    targets = rows[0]["targets"]
    if isinstance(targets, str):  # SQLite returns JSON text to a plain query
        targets = json.loads(targets)
    assert targets == [own, own_failover, profile_url, profile_failover]

    own_only = wh_client.messages.send(
        from_=number,
        to="+13125550101",
        text="own only",
        webhook_url=own,
        use_profile_webhooks=False,
    )
    assert own_only.data is not None and own_only.data.id
    receiver.wait_for(lambda: settled(wh_server, own_only.data.id, 1))  # type: ignore[union-attr]
    assert {h.path for h in receiver.hits_for(own_only.data.id)} == {"/fail/own"}


def test_webhook_urls_must_be_http(wh_client: telnyx.Telnyx, sender: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        wh_client.messages.send(
            from_=sender,
            to="+13125550100",
            text="x",
            webhook_url="https://ok.example.com/h",
            webhook_failover_url="file:///etc/passwd",
        )
    error = caught.value.body["errors"][0]  # type: ignore[index]
    assert error["source"]["pointer"] == "/webhook_failover_url"
    assert "scheme" in error["detail"]

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        wh_client.messaging_profiles.create(
            name="bad", whitelisted_destinations=["US"], webhook_url="javascript:alert(1)"
        )
    assert caught.value.body["errors"][0]["source"]["pointer"] == "/webhook_url"  # type: ignore[index]
