"""`switchboard keys rotate`: a new current key; the previous one keeps signing the Standard
Webhooks header during its grace period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import telnyx

from tests.harness import Server
from tests.webhooks.servers import standard_verify
from tests.webhooks_e2e.conftest import database_for, make_sender, running_server
from tests.webhooks_e2e.receiver import Hit, Receiver, verify

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["sqlite", "postgres"])
def rotating_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    for db_url in database_for(str(request.param), tmp_path):
        yield from running_server(db_url, tmp_path)


def event_hit(client: telnyx.Telnyx, number: str, receiver: Receiver) -> Hit:
    sent = client.messages.send(
        from_=number, to="+13125550101", text="signed", webhook_url=receiver.url("/ok/keys")
    )
    assert sent.data is not None and sent.data.id
    return receiver.wait_hits(sent.data.id, 1)[0]


def telnyx_accepts(hit: Hit, key: str) -> bool:
    client = telnyx.Telnyx(api_key="x", public_key=key, base_url="http://127.0.0.1:9")
    try:
        client.webhooks.unwrap(hit.body.decode(), headers=hit.headers)
    except ValueError:
        return False
    return True


def test_rotation_with_grace(rotating_server: Server, receiver: Receiver) -> None:
    server = rotating_server
    client = server.client()
    number, _ = make_sender(client)
    banner = server.log_path.read_text()
    old_key = banner.split("Webhook key:")[1].split()[0]  # as `switchboard serve` prints it
    verify(event_hit(client, number, receiver), old_key)

    output = server.cli("keys", "rotate", "--grace", "1h")
    new_key = output.split("New webhook public key: ")[1].split()[0]
    assert new_key != old_key
    assert f"Previous key {old_key} keeps signing" in output
    assert server.cli("keys", "show").strip() == new_key

    hit = event_hit(client, number, receiver)
    verify(hit, new_key)  # the SDK and Standard Webhooks, with the new key
    assert not telnyx_accepts(hit, old_key)  # `telnyx-signature-ed25519` is the new key's only
    assert standard_verify(hit.body, hit.headers, "whpk_" + old_key)  # grace: old still works
    assert len(hit.headers["webhook-signature"].split(" ")) == 2

    # Rotating again without grace: only the newest key signs.
    output = server.cli("keys", "rotate", "--grace", "0")
    newest = output.split("New webhook public key: ")[1].split()[0]
    hit = event_hit(client, number, receiver)
    verify(hit, newest)
    assert hit.headers["webhook-signature"].count("v1a,") == 1
    assert not standard_verify(hit.body, hit.headers, "whpk_" + new_key)
    assert not standard_verify(hit.body, hit.headers, "whpk_" + old_key)


def test_configured_key_is_not_rotated(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'configured.db'}"
    seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    server = Server(db, tmp_path, env={"SWITCHBOARD_WEBHOOK_SIGNING_KEY": seed})
    server.cli("migrate")
    with pytest.raises(Exception) as caught:
        server.cli("keys", "rotate")
    assert "SWITCHBOARD_WEBHOOK_SIGNING_KEY" in str(getattr(caught.value, "stderr", ""))
