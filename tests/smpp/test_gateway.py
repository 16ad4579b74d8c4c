"""Gateway mode end to end: the API, the dispatcher and an SMPP bind to a real SMSC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import telnyx

from tests.harness import Server, new_number, wait_for
from tests.smpp.helpers import PASSWORD, SYSTEM_ID, Simulator

TERMINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired"}


@pytest.fixture
def gateway(sim: Simulator, tmp_path: Path) -> Iterator[Server]:
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f"""
mode = "gateway"

[[carriers.smpp]]
name = "simulated-smsc"
host = "127.0.0.1"
port = {sim.smpp_port}
system_id = "{SYSTEM_ID}"
password = "{PASSWORD}"
binds = 2
window = 16
"""
    )
    server = Server(f"sqlite:///{tmp_path / 'gateway.db'}", tmp_path, config=config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def final(client: telnyx.Telnyx, message_id: str) -> telnyx.types.MessageRetrieveResponse:
    def done() -> telnyx.types.MessageRetrieveResponse | None:
        got = client.messages.retrieve(message_id)
        assert got.data is not None and got.data.to
        return got if got.data.to[0].status in TERMINAL else None

    return wait_for(done, timeout=20)


def test_messages_travel_over_smpp_and_receipts_finalize_them(
    gateway: Server, sim: Simulator
) -> None:
    client = gateway.client()
    profile = client.messaging_profiles.create(name="Gateway", whitelisted_destinations=["US"]).data
    assert profile is not None and profile.id
    sender = new_number()
    client.number_orders.create(
        phone_numbers=[{"phone_number": sender}], messaging_profile_id=profile.id
    )

    ok = client.messages.send(from_=sender, to="+13125550100", text="over SMPP").data
    long = client.messages.send(from_=sender, to="+13125550200", text="long " * 70).data
    failed = client.messages.send(from_=sender, to="+13125550001", text="undeliverable").data
    assert ok is not None and long is not None and failed is not None
    assert long.parts == 3

    delivered = final(client, ok.id or "").data
    assert delivered is not None and delivered.to and delivered.to[0].status == "delivered"
    long_final = final(client, long.id or "").data
    assert long_final is not None and long_final.to and long_final.to[0].status == "delivered"
    undeliv = final(client, failed.id or "").data
    assert undeliv is not None and undeliv.to and undeliv.to[0].status == "delivery_failed"
    assert undeliv.errors and undeliv.errors[0].code.startswith("400")

    rows = gateway.query(
        "SELECT id, carrier, carrier_message_id FROM messages WHERE id IN (:a, :b)",
        a=ok.id,
        b=long.id,
    )
    assert {r["carrier"] for r in rows} == {"simulated-smsc"}
    by_id = {r["id"]: r["carrier_message_id"] for r in rows}
    assert len(by_id[long.id].split(",")) == 3  # one id per part, all persisted

    submits = [e for e in sim.state()["events"] if e["type"] == "submit_sm"]
    assert len(submits) == 1 + 3 + 1  # every part went to the SMSC exactly once

    # The receipts' `done date` has only minutes: it never puts completion before sending.
    times = gateway.query(
        "SELECT sent_at, completed_at FROM messages WHERE id IN (:a, :b, :c)",
        a=ok.id,
        b=long.id,
        c=failed.id,
    )
    assert len(times) == 3
    for t in times:
        sent_at, completed_at = (
            v if isinstance(v, datetime) else datetime.fromisoformat(v)
            for v in (t["sent_at"], t["completed_at"])
        )
        assert completed_at >= sent_at


def test_mobile_originated_over_smpp_reaches_the_number_owner(
    gateway: Server, sim: Simulator
) -> None:
    client = gateway.client()
    profile = client.messaging_profiles.create(name="Inbound", whitelisted_destinations=["US"]).data
    assert profile is not None and profile.id
    number = new_number()
    client.number_orders.create(
        phone_numbers=[{"phone_number": number}], messaging_profile_id=profile.id
    )
    text = "a reply from a handset, long enough to need two parts " * 4
    sim._call("/mo", {"from": "13125550100", "to": number.lstrip("+"), "text": text})

    def stored() -> list[dict[str, object]]:
        return gateway.query(
            "SELECT id, from_address, to_address, text, messaging_profile_id FROM messages "
            "WHERE direction = 'inbound' AND to_address = :to",
            to=number,
        )

    (row,) = wait_for(stored, timeout=15)
    assert row["from_address"] == "+13125550100"
    assert row["text"] == text  # concatenated parts reassembled
    assert row["messaging_profile_id"] == profile.id
    inbound = client.messages.retrieve(str(row["id"])).data
    assert inbound is not None and inbound.direction == "inbound"


def test_carriers_status_shows_binds_and_counters(gateway: Server, sim: Simulator) -> None:
    client = gateway.client()
    profile = client.messaging_profiles.create(name="Status", whitelisted_destinations=["US"]).data
    assert profile is not None and profile.id
    sender = new_number()
    client.number_orders.create(
        phone_numbers=[{"phone_number": sender}], messaging_profile_id=profile.id
    )
    sent = client.messages.send(from_=sender, to="+13125550100", text="count me").data
    assert sent is not None
    final(client, sent.id or "")

    def reported() -> str | None:
        out = gateway.cli("carriers", "status")
        line = next((x for x in out.splitlines() if x.startswith("simulated-smsc")), "")
        return out if " 2/2 " in line and line.split()[4] == "1" else None

    output = wait_for(reported, timeout=15, interval=0.5)
    assert "sandbox" in output
    assert output.count("bound") >= 2
