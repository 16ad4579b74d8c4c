"""Inbound messages: handset → app webhook → app reply → handset, routing, and bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import telnyx
from telnyx.types import InboundMessageWebhookEvent

from switchboard.app import create_app
from switchboard.config import Settings
from tests.harness import Server, new_number, wait_for
from tests.receiving.conftest import (
    App,
    Hook,
    Line,
    conversation,
    handset_sends,
    new_handset,
    open_line,
    raw,
    sandbox_messages,
    wait_conversation,
)

pytestmark = pytest.mark.timeout(30)


def test_handset_to_app_to_handset(server: Server, client: telnyx.Telnyx, app: App) -> None:
    public_key = server.cli("keys", "show").strip()
    verifier = telnyx.Telnyx(api_key="x", public_key=public_key, base_url="http://127.0.0.1:9")
    events: list[Any] = []

    def reply(hook: Hook) -> None:
        # The app verifies the webhook with the SDK, then answers the handset.
        event = verifier.webhooks.unwrap(hook.body.decode(), headers=hook.headers)
        if event.data.event_type != "message.received":
            return  # the profile also gets message.sent / message.finalized of the reply
        events.append(event)
        payload = event.data.payload
        client.messages.send(
            from_=payload.to[0].phone_number,
            to=payload.from_.phone_number,
            text=f"You said: {payload.text}",
        )

    app.on_hook = reply
    line = open_line(client, app.url)
    handset = new_handset()
    sent = handset_sends(client, handset, line.number, "Hello there")
    assert sent["direction"] == "inbound"
    assert (sent["handset"], sent["number"], sent["from"], sent["to"]) == (
        handset,
        line.number,
        handset,
        line.number,
    )
    assert sent["status"] == "received" and sent["message_id"]

    items = wait_conversation(client, handset, 2)
    inbound, outbound = items[0], items[1]
    assert inbound["message_id"] == sent["message_id"]
    assert outbound["direction"] == "outbound"
    assert (outbound["from"], outbound["to"]) == (line.number, handset)
    assert outbound["text"] == "You said: Hello there"

    assert len(events) == 1
    event = events[0]
    assert isinstance(event, InboundMessageWebhookEvent)
    assert event.data.event_type == "message.received"
    payload = event.data.payload
    assert payload.id == sent["message_id"]
    assert payload.direction == "inbound"
    assert payload.type == "SMS"
    assert payload.text == "Hello there"
    assert payload.messaging_profile_id == line.profile_id
    assert payload.from_.phone_number == handset
    assert payload.to[0].phone_number == line.number
    assert payload.autoresponse_type is None

    # The inbound message is readable (strict inbound shape) like any other.
    message = client.messages.retrieve(sent["message_id"]).data
    assert message is not None
    assert message.direction == "inbound"
    assert message.text == "Hello there"
    assert message.to[0].status in ("delivered", "webhook_delivered")
    assert (message.encoding, message.parts, message.num_chars) == ("GSM-7", 1, 11)
    assert message.received_at is not None
    # Once the app's webhook took the message, the message says so.
    wait_for(
        lambda: (
            client.messages.retrieve(sent["message_id"]).data.to[0].status == "webhook_delivered"
        )
    )
    # The webhook body's payload is the resource `GET /messages/{id}` shows (status aside).
    api_view = json.loads(
        client.messages.with_raw_response.retrieve(sent["message_id"]).http_response.text
    )["data"]
    hook_view = app.received_for(sent["message_id"])[0].json["data"]["payload"]
    for view in (api_view, hook_view):
        view["to"][0].pop("status")
    assert hook_view == api_view


def test_mms_and_whatsapp_from_handsets(client: telnyx.Telnyx, app: App, line: Line) -> None:
    handset = new_handset()
    mms = handset_sends(
        client,
        handset,
        line.number,
        "look",
        media_urls=["https://example.com/cat.jpg", "https://example.com/a.png?x=1"],
    )
    assert mms["type"] == "MMS"
    assert mms["media_urls"] == ["https://example.com/cat.jpg", "https://example.com/a.png?x=1"]
    message = client.messages.retrieve(mms["message_id"]).data
    assert message is not None and message.media is not None
    assert message.type == "MMS"
    assert [(m.url, m.content_type) for m in message.media] == [
        ("https://example.com/cat.jpg", "image/jpeg"),
        ("https://example.com/a.png?x=1", "image/png"),
    ]

    only_media = handset_sends(client, handset, line.number, media_urls=["https://e.com/v.mp4"])
    assert only_media["type"] == "MMS" and only_media["text"] == ""

    whatsapp = handset_sends(client, handset, line.number, "hola", type="WHATSAPP")
    found = client.messages.retrieve(whatsapp["message_id"]).data
    assert found is not None and found.type == "WHATSAPP"

    hooks = wait_for(lambda: len(app.received()) >= 3 and app.received())
    assert {h.json["data"]["payload"]["type"] for h in hooks} == {"MMS", "WHATSAPP"}


def test_unicode_inbound_counts_parts(client: telnyx.Telnyx, line: Line) -> None:
    text = "Привет! " * 10  # 80 UCS-2 characters: two parts
    sent = handset_sends(client, new_handset(), line.number, text)
    message = client.messages.retrieve(sent["message_id"]).data
    assert message is not None
    assert (message.encoding, message.parts, message.num_chars, message.text) == (
        "UCS-2",
        2,
        80,
        text,
    )


def test_number_nobody_owns_is_dropped(server: Server, client: telnyx.Telnyx) -> None:
    handset, nobody = new_handset(), new_number("+1917555")
    dropped = handset_sends(client, handset, nobody, "anyone there?")
    assert dropped["status"] == "dropped"
    assert dropped["message_id"] is None
    rows = server.query(
        "SELECT from_address, text, reason FROM unrouted_messages WHERE to_address = :n",
        n=nobody,
    )
    assert rows == [{"from_address": handset, "text": "anyone there?", "reason": "unowned_number"}]
    assert server.query("SELECT id FROM messages WHERE to_address = :n", n=nobody) == []
    assert conversation(client, handset) == []


def test_inbound_goes_to_the_owning_account_only(
    server: Server, client: telnyx.Telnyx, app: App
) -> None:
    other = server.client(server.new_account_key("receiver"))
    theirs = open_line(other, app.url)
    mine = open_line(client)
    handset = new_handset()

    sent = handset_sends(client, handset, theirs.number, "for the other account")
    # The caller made the handset send, but the message belongs to the number's owner.
    assert sent["message_id"] is None
    stored = server.query(
        "SELECT id, account_id, messaging_profile_id FROM messages "
        "WHERE direction = 'inbound' AND to_address = :n",
        n=theirs.number,
    )
    assert len(stored) == 1 and stored[0]["messaging_profile_id"] == theirs.profile_id
    message_id = stored[0]["id"]
    found = other.messages.retrieve(message_id).data
    assert found is not None and found.text == "for the other account"
    with pytest.raises(telnyx.NotFoundError):
        client.messages.retrieve(message_id)
    assert conversation(client, handset) == []
    assert [m["message_id"] for m in conversation(other, handset)] == [message_id]
    hooks = wait_for(lambda: app.received_for(message_id))
    assert hooks[0].json["data"]["payload"]["organization_id"] == stored[0]["account_id"]

    mine_sent = handset_sends(client, handset, mine.number, "for me")
    assert [m["message_id"] for m in conversation(client, handset)] == [mine_sent["message_id"]]


def test_number_without_profile_still_reaches_its_account(
    server: Server, client: telnyx.Telnyx
) -> None:
    number = new_number("+1773555")
    client.number_orders.create(phone_numbers=[{"phone_number": number}])
    sent = handset_sends(client, new_handset(), number, "STOP")
    message = client.messages.retrieve(sent["message_id"]).data
    assert message is not None
    assert message.messaging_profile_id is None
    assert message.autoresponse_type is None  # opt-outs belong to profiles


def test_sandbox_messages_filters_and_pages(client: telnyx.Telnyx, line: Line) -> None:
    handset, other_handset = new_handset(), new_handset()
    before = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(3):
        handset_sends(client, handset, line.number, f"in {i}")
    handset_sends(client, other_handset, line.number, "elsewhere")
    client.messages.send(from_=line.number, to=handset, text="out 0")
    wait_conversation(client, handset, 4)

    inbound = sandbox_messages(
        client, **{"filter[handset]": handset, "filter[direction]": "inbound"}
    )
    assert [m["text"] for m in inbound["data"]] == ["in 0", "in 1", "in 2"]
    assert inbound["meta"] == {
        "page_number": 1,
        "page_size": 20,
        "total_pages": 1,
        "total_results": 3,
    }
    outbound = sandbox_messages(client, handset=handset, direction="outbound")
    assert [m["text"] for m in outbound["data"]] == ["out 0"]
    assert outbound["data"][0]["status"] in ("sent", "delivered")

    by_number = sandbox_messages(client, **{"filter[number]": line.number, "page[size]": 250})
    assert {m["handset"] for m in by_number["data"]} == {handset, other_handset}
    assert by_number["meta"]["total_results"] == 5

    pages = [
        sandbox_messages(client, handset=handset, **{"page[size]": 2, "page[number]": n})
        for n in (1, 2, 3)
    ]
    assert [len(p["data"]) for p in pages] == [2, 2, 0]
    assert pages[0]["meta"]["total_pages"] == 2

    since = sandbox_messages(
        client, handset=handset, since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
    )
    assert since["data"] == []
    assert len(sandbox_messages(client, handset=handset, since=before.isoformat())["data"]) == 4

    def out_statuses() -> list[str]:
        page = sandbox_messages(client, handset=handset, direction="outbound")
        return [m["status"] for m in page["data"]]

    wait_for(lambda: out_statuses() == ["delivered"])


def test_bad_input_never_500(server: Server, client: telnyx.Telnyx, line: Line) -> None:
    handset = new_handset()
    path = f"/sandbox/handsets/{handset}/messages"

    broken = raw(
        server,
        "POST",
        path,
        content=b'{"to": "' + line.number.encode() + b'", "text": "\xff\xfe bad"}',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "10023"

    # A lone surrogate is no text at all: refused. A NUL cannot be stored: replaced.
    surrogate = raw(
        server,
        "POST",
        path,
        content=b'{"to": "' + line.number.encode() + b'", "text": "a\\ud800b"}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422, surrogate.text
    nul = raw(server, "POST", path, json={"to": line.number, "text": "a\u0000c"})
    assert nul.status_code == 200, nul.text
    stored = client.messages.retrieve(nul.json()["data"]["message_id"]).data
    assert stored is not None and stored.text == "a\ufffdc"

    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("/sandbox/handsets/12345/messages", {"to": line.number, "text": "x"}, 422, "10016"),
        (path, {"to": "not-a-number", "text": "x"}, 422, "40310"),
        (path, {"to": line.number}, 422, "40316"),
        (path, {"to": line.number, "text": 5}, 422, "10025"),
        (path, {"text": "x"}, 422, "10004"),
        (path, {"to": line.number, "media_urls": ["ftp://x/y"]}, 422, "10025"),
        (path, {"to": line.number, "type": "SMS", "media_urls": ["https://a/b"]}, 422, "10025"),
    ]
    for url, body, status, code in cases:
        response = raw(server, "POST", url, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["errors"][0]["code"] == code, (body, response.text)

    bad_filters = [
        {"filter[direction]": "sideways"},
        {"filter[since]": "yesterday"},
        {"page[size]": "0"},
    ]
    for params in bad_filters:
        response = raw(server, "GET", "/sandbox/messages", params=params)
        assert response.status_code == 422, (params, response.text)
    assert raw(server, "GET", "/sandbox/messages", headers={"Authorization": ""}).status_code == 401


def test_gateway_mode_has_no_sandbox(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gateway.db'}", mode="gateway")
    app = create_app(settings, run_workers=False)

    async def check() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
                for method, path in (
                    ("GET", "/v2/sandbox/messages"),
                    ("POST", "/v2/sandbox/handsets/+13125550100/messages"),
                ):
                    body = {"to": "+13125550100", "text": "x"}
                    response = await web.request(method, path, json=body)
                    assert response.status_code == 404
                    assert response.json()["errors"][0]["code"] == "10005"

    asyncio.run(check())
