"""MMS media: fetched at send time within limits, behind the SSRF guard, described on the
message (content type, size, SHA-256)."""

from __future__ import annotations

import json
from typing import Any

import telnyx

from tests.harness import Server, wait_for
from tests.sending.conftest import ServerFactory
from tests.sending.helpers import final_row, new_sender, row, statuses
from tests.sending.media_server import CAT, GIF, PARTY, sha256


def errors_of(stored: dict[str, Any]) -> list[dict[str, Any]]:
    value = stored["errors"]
    return json.loads(value) if isinstance(value, str) else list(value)


def send_mms(client: telnyx.Telnyx, sender: str, urls: list[str]) -> str:
    sent = client.messages.send(from_=sender, to="+13125550100", media_urls=urls, text="look")
    assert sent.data is not None and sent.data.id and sent.data.type == "MMS"
    return sent.data.id


def test_media_are_fetched_and_described(
    server: Server, client: telnyx.Telnyx, media_host: str
) -> None:
    _, sender = new_sender(client)
    urls = [f"{media_host}/cat.jpg", f"{media_host}/party.png", f"{media_host}/picture.gif"]
    message_id = send_mms(client, sender, urls)
    assert final_row(server, message_id)["status"] == "delivered"
    fetched = client.messages.retrieve(message_id).data
    assert fetched is not None and fetched.media
    described = [(m.url, m.content_type, m.size, m.sha256) for m in fetched.media]
    assert described == [
        (urls[0], "image/jpeg", len(CAT), sha256(CAT)),
        (urls[1], "image/png", len(PARTY), sha256(PARTY)),
        (urls[2], "image/gif", len(GIF), sha256(GIF)),  # type from the extension
    ]


def test_redirects_are_followed(server: Server, client: telnyx.Telnyx, media_host: str) -> None:
    _, sender = new_sender(client)
    url = f"{media_host}/redirect"
    message_id = send_mms(client, sender, [url])
    assert final_row(server, message_id)["status"] == "delivered"
    media = client.messages.retrieve(message_id).data.media  # type: ignore[union-attr]
    assert media and (media[0].url, media[0].sha256) == (url, sha256(CAT))


def test_unusable_media_fail_the_message(
    server: Server, client: telnyx.Telnyx, media_host: str
) -> None:
    _, sender = new_sender(client)
    cases = {
        "/missing.jpg": "HTTP 404",
        "/app.exe": "not supported",
        "/big.png": "at most 1000000 bytes",
        "/loop": "redirects",
    }
    ids = {path: send_mms(client, sender, [f"{media_host}{path}"]) for path in cases}
    for path, words in cases.items():
        stored = final_row(server, ids[path])
        assert stored["status"] == "sending_failed", path
        (error,) = errors_of(stored)
        assert error["code"] == "40009" and words in error["detail"], error
        assert statuses(server, ids[path]) == ["queued", "sending", "sending_failed"]
    fetched = client.messages.retrieve(ids["/app.exe"]).data
    assert fetched is not None and fetched.errors and fetched.errors[0].code == "40009"


def test_link_local_and_metadata_addresses_are_refused(
    server: Server, client: telnyx.Telnyx
) -> None:
    _, sender = new_sender(client)
    message_id = send_mms(client, sender, ["http://169.254.169.254/latest/meta-data/photo.jpg"])
    stored = final_row(server, message_id)
    assert stored["status"] == "sending_failed"
    assert "not allowed" in errors_of(stored)[0]["detail"]


def test_total_size_limit_and_private_hosts(make_server: ServerFactory, media_host: str) -> None:
    srv = make_server(
        {"SWITCHBOARD_MEDIA__MAX_TOTAL_BYTES": "3000", "SWITCHBOARD_MEDIA__ALLOW_PRIVATE": "false"}
    )
    client = srv.client()
    _, sender = new_sender(client)
    # A gateway-like setting: loopback and private hosts are refused.
    blocked = send_mms(client, sender, [f"{media_host}/cat.jpg"])
    stored = final_row(srv, blocked)
    assert stored["status"] == "sending_failed"
    assert "loopback" in errors_of(stored)[0]["detail"]

    srv2 = make_server({"SWITCHBOARD_MEDIA__MAX_TOTAL_BYTES": "3000"})
    client2 = srv2.client()
    _, sender2 = new_sender(client2)
    one = send_mms(client2, sender2, [f"{media_host}/cat.jpg"])  # 2052 bytes: fits
    two = send_mms(client2, sender2, [f"{media_host}/cat.jpg", f"{media_host}/cat.jpg"])
    assert final_row(srv2, one)["status"] == "delivered"
    failed = final_row(srv2, two)
    assert failed["status"] == "sending_failed"
    assert "at most 3000 bytes" in errors_of(failed)[0]["detail"]


def test_server_errors_are_retried(make_server: ServerFactory, media_host: str) -> None:
    srv = make_server({"SWITCHBOARD_MEDIA__RETRY_AFTER": "60"})
    client = srv.client()
    _, sender = new_sender(client)
    message_id = send_mms(client, sender, [f"{media_host}/broken"])

    def requeued() -> bool:
        return statuses(srv, message_id)[:3] == ["queued", "sending", "queued"]

    wait_for(requeued)
    stored = row(srv, message_id)
    assert stored["status"] == "queued" and stored["wait_seconds"] >= 59


def test_fetching_can_be_turned_off(make_server: ServerFactory, media_host: str) -> None:
    srv = make_server({"SWITCHBOARD_MEDIA__FETCH": "false"})
    client = srv.client()
    _, sender = new_sender(client)
    message_id = send_mms(client, sender, [f"{media_host}/missing.jpg"])
    assert final_row(srv, message_id)["status"] == "delivered"
    media = client.messages.retrieve(message_id).data.media  # type: ignore[union-attr]
    assert media and media[0].sha256 is None
