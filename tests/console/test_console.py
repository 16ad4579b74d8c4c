"""The console in a real browser: messages, conversations, message details, tables.

Each test works with numbers of its own (a fresh profile and number, fresh handsets), so
the shared server's other traffic never gets in the way; the message list is filtered by
the test's number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import telnyx

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips these tests (or fails them in CI) and says why
    expect = None

from tests.console.conftest import query, screenshot
from tests.harness import Server, wait_for
from tests.receiving.conftest import App, handset_sends, new_handset, open_line

pytestmark = pytest.mark.timeout(30)


def _status(client: telnyx.Telnyx, message_id: str) -> str:
    message = client.messages.retrieve(message_id).data
    assert message is not None
    return str(message.to[0].status)


def _send(client: telnyx.Telnyx, from_: str, to: str, text: str) -> str:
    sent = client.messages.send(from_=from_, to=to, text=text).data
    assert sent is not None and sent.id
    return sent.id


def _final(client: telnyx.Telnyx, message_id: str, status: str) -> None:
    wait_for(lambda: _status(client, message_id) == status, timeout=10)


def _path(number: str) -> str:
    return quote(number, safe="+")


def test_message_list_shows_statuses_and_updates_live(
    page: Any, client: telnyx.Telnyx, app: App, tmp_path: Path
) -> None:
    line = open_line(client, app.url)
    handset = new_handset()
    ok = _send(client, line.number, handset, "Your table is ready")
    failed = _send(client, line.number, "+17735550102", "This one is undeliverable")
    rejected = _send(client, line.number, "+17735550101", "This one the carrier refuses")
    _final(client, ok, "delivered")
    _final(client, failed, "delivery_failed")
    _final(client, rejected, "sending_failed")

    page.goto("/?" + urlencode({"number": line.number}))
    rows = page.locator("#message-rows tr[data-id]")
    expect(rows).to_have_count(3)
    # Newest first.
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.id)") == [rejected, failed, ok]
    for message_id, status in (
        (ok, "delivered"),
        (failed, "delivery_failed"),
        (rejected, "sending_failed"),
    ):
        row = page.locator(f'tr[data-id="{message_id}"]')
        expect(row.locator(".badge")).to_have_text(status)
    expect(page.locator(f'tr[data-id="{ok}"] .col-text')).to_have_text("Your table is ready")
    expect(page.locator(f'tr[data-id="{ok}"]')).to_contain_text(handset)
    screenshot(page, tmp_path, "messages")

    # A new message appears, and reaches `delivered`, without a reload.
    page.evaluate("window.__stillHere = true")
    fresh = _send(client, line.number, handset, "Arrives while you watch")
    row = page.locator(f'tr[data-id="{fresh}"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row.locator(".badge")).to_have_text("delivered", timeout=5_000)
    expect(rows).to_have_count(4)
    assert rows.first.get_attribute("data-id") == fresh
    assert page.evaluate("window.__stillHere") is True
    expect(page.locator("#live-state")).to_have_text("live")

    # The filters narrow the list.
    page.select_option("select[name=status]", "delivery_failed")  # submits itself
    expect(page).to_have_url(re.compile(r"status=delivery_failed"))
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-id") == failed
    page.goto("/?" + urlencode({"number": line.number, "direction": "inbound"}))
    expect(page.locator("#message-rows .empty-row")).to_contain_text("No messages match")


def test_conversation_and_reply_as_the_handset(
    page: Any, server: Server, client: telnyx.Telnyx, app: App, tmp_path: Path
) -> None:
    line = open_line(client, app.url)
    handset = new_handset()
    first = _send(client, line.number, handset, "Your code is 4321: https://example.com/v?c=1.")
    _final(client, first, "delivered")
    answer = handset_sends(client, handset, line.number, "Thanks!\nGot it.")

    page.goto("/conversations")
    link = page.locator(f'#conversation-rows a[href="/conversations/{handset}/{line.number}"]')
    expect(link.first).to_be_visible()
    screenshot(page, tmp_path, "conversations")
    link.first.click()
    expect(page).to_have_url(f"{server.base_url}/conversations/{handset}/{line.number}")

    bubbles = page.locator("#thread .bubble")
    expect(bubbles).to_have_count(2)
    expect(bubbles.nth(0)).to_have_class("bubble theirs")
    expect(bubbles.nth(0).locator(".bubble-text")).to_have_text(
        "Your code is 4321: https://example.com/v?c=1."
    )
    # Links in what the handset received can be followed (short links count the click).
    link = bubbles.nth(0).locator(".bubble-text a")
    expect(link).to_have_attribute("href", "https://example.com/v?c=1")
    expect(bubbles.nth(1)).to_have_class("bubble mine")
    expect(bubbles.nth(1).locator(".bubble-text")).to_have_text("Thanks!\nGot it.")
    assert bubbles.nth(1).get_attribute("data-id") == answer["message_id"]

    # Reply as the handset from the compose box (Enter sends).
    text = "Sent from the console, as the handset"
    page.fill("#composer textarea[name=text]", text)
    screenshot(page, tmp_path, "conversation")
    page.press("#composer textarea[name=text]", "Enter")
    expect(bubbles).to_have_count(3)
    expect(bubbles.nth(2)).to_have_class("bubble mine")
    expect(bubbles.nth(2).locator(".bubble-text")).to_have_text(text)

    # It is an inbound message stored for the app, readable with the SDK…
    rows = query(
        server,
        "SELECT id, direction, to_address, account_id FROM messages"
        " WHERE from_address = :handset AND text = :text",
        handset=handset,
        text=text,
    )
    assert len(rows) == 1 and rows[0]["direction"] == "inbound"
    assert rows[0]["to_address"] == line.number
    stored = client.messages.retrieve(rows[0]["id"]).data
    assert stored is not None and stored.direction == "inbound" and stored.text == text
    assert stored.messaging_profile_id == line.profile_id
    # …and the app got its `message.received` webhook.
    hooks = wait_for(lambda: app.received_for(rows[0]["id"]))
    assert hooks[0].json["data"]["payload"]["text"] == text
    assert hooks[0].json["data"]["payload"]["from"]["phone_number"] == handset

    # An empty message is refused, and nothing is sent.
    page.fill("#composer textarea[name=text]", "   ")
    page.click("#composer button[type=submit]")
    expect(page.locator(".form-error")).to_contain_text("Write a message")
    expect(bubbles).to_have_count(3)


def test_message_detail_events_webhooks_and_resend(
    page: Any, server: Server, client: telnyx.Telnyx, app: App, tmp_path: Path
) -> None:
    line = open_line(client, app.url)
    handset = new_handset()
    message_id = _send(client, line.number, handset, "Check the webhooks")
    _final(client, message_id, "delivered")
    wait_for(
        lambda: [
            h
            for h in app.received("message.finalized")
            if h.json["data"]["payload"]["id"] == message_id
        ]
    )

    page.goto(f"/messages/{message_id}")
    expect(page.locator("#message-status")).to_have_text("delivered")
    expect(page.locator("#message-text")).to_have_text("Check the webhooks")
    history = page.locator("#history .timeline li .badge")
    statuses = history.all_inner_texts()
    assert statuses[0] == "queued" and statuses[-1] == "delivered" and "sent" in statuses

    resource = json.loads(page.locator("#resource-json").inner_text())
    assert resource["id"] == message_id and resource["to"][0]["status"] == "delivered"

    sent = page.locator('article.delivery[data-event-type="message.sent"]')
    finalized = page.locator('article.delivery[data-event-type="message.finalized"]')
    expect(sent).to_have_count(1)
    expect(finalized).to_have_count(1)
    for article in (sent, finalized):
        expect(article.locator("header .badge")).to_have_text("delivered")
        expect(article.locator("details.attempt")).to_have_count(1)
        expect(article.locator("details.attempt summary .http")).to_have_text("HTTP 200")

    # An attempt shows what was sent and what came back.
    attempt = finalized.locator("details.attempt").first
    attempt.locator("summary").click()
    request_body = attempt.locator(".exchange pre.json").inner_text()
    event = json.loads(request_body)
    assert event["data"]["event_type"] == "message.finalized"
    assert event["data"]["payload"]["id"] == message_id
    expect(attempt.locator(".exchange")).to_contain_text(f"POST {app.url}")
    expect(attempt.locator(".exchange")).to_contain_text("telnyx-signature-ed25519")
    screenshot(page, tmp_path, "message")

    # Resend: the same event goes out again as a new attempt, shown without a reload.
    event_id = event["data"]["id"]
    before = len([h for h in app.received("message.finalized") if h.json["data"]["id"] == event_id])
    finalized.locator("button", has_text="Resend").click()
    expect(page.locator(".notice")).to_contain_text("queued again")
    expect(finalized.locator("details.attempt")).to_have_count(2, timeout=10_000)
    expect(finalized.locator("details.attempt").first.locator("summary .num")).to_have_text("#2")
    expect(finalized.locator("header .badge")).to_have_text("delivered")
    wait_for(
        lambda: (
            len([h for h in app.received("message.finalized") if h.json["data"]["id"] == event_id])
            == before + 1
        )
    )
    attempts = query(
        server,
        "SELECT a.number FROM webhook_attempts a JOIN webhook_deliveries d"
        " ON d.id = a.delivery_id WHERE d.event_id = :event_id ORDER BY a.number",
        event_id=event_id,
    )
    assert [a["number"] for a in attempts] == [1, 2]
    expect(sent.locator("details.attempt")).to_have_count(1)


def test_html_in_messages_is_shown_as_text(
    page: Any, client: telnyx.Telnyx, app: App, tmp_path: Path
) -> None:
    line = open_line(client, app.url, name="<i>Profile</i> & co")
    handset = new_handset()
    evil = '<script>window.__pwned = 1</script><b>bold</b> & <img src=x onerror="alert(1)">'
    message_id = _send(client, line.number, handset, evil)
    reply = handset_sends(client, handset, line.number, "<script>alert('handset')</script>")
    _final(client, message_id, "delivered")

    def no_markup(scope: str) -> None:
        assert page.locator(f"{scope} b, {scope} img, {scope} i").count() == 0
        assert page.locator("body script:not([src])").count() == 0
        assert page.evaluate("window.__pwned") is None

    page.goto("/?" + urlencode({"number": line.number}))
    expect(page.locator(f'tr[data-id="{message_id}"] .col-text')).to_have_text(evil)
    no_markup("#message-rows")

    page.goto(f"/messages/{message_id}")
    expect(page.locator("#message-text")).to_have_text(evil)
    no_markup("main")

    page.goto(f"/conversations/{_path(handset)}/{_path(line.number)}")
    texts = page.locator("#thread .bubble-text")
    expect(texts).to_have_text([evil, "<script>alert('handset')</script>"])
    assert page.locator("#thread .bubble").nth(1).get_attribute("data-id") == reply["message_id"]
    no_markup("#thread")

    page.goto("/profiles")
    expect(page.locator("tbody tr", has_text=line.profile_id)).to_contain_text(
        "<i>Profile</i> & co"
    )
    no_markup("tbody")


def test_numbers_profiles_and_opt_outs(
    page: Any, client: telnyx.Telnyx, app: App, tmp_path: Path
) -> None:
    line = open_line(client, app.url, name="Console profile")
    handset = new_handset()
    handset_sends(client, handset, line.number, "STOP")

    page.goto("/numbers")
    row = page.locator("tbody tr", has_text=line.number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Console profile")
    expect(row).to_contain_text(line.profile_id)
    expect(row.locator(".badge")).to_have_text("active")
    screenshot(page, tmp_path, "numbers")

    page.goto("/profiles")
    row = page.locator("tbody tr", has_text=line.profile_id)
    expect(row).to_contain_text("Console profile")
    expect(row).to_contain_text(app.url)
    expect(row).to_contain_text("US")
    screenshot(page, tmp_path, "profiles")

    page.goto("/opt-outs")
    row = page.locator("tbody tr", has_text=handset)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(line.number)
    expect(row.locator(".badge")).to_have_text("STOP")
    expect(row).to_contain_text("Console profile")
    screenshot(page, tmp_path, "opt-outs")
    # The handset links to its conversation, where the STOP and its auto-reply are.
    row.locator("a").first.click()
    bubbles = page.locator("#thread .bubble")
    expect(bubbles).to_have_count(2)
    expect(bubbles.nth(0).locator(".bubble-text")).to_have_text("STOP")
    expect(bubbles.nth(1).locator(".bubble-text")).to_contain_text("unsubscribed")
