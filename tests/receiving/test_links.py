"""The URL shortener: rewritten links, 302 redirects, recorded clicks, link-click webhooks."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import telnyx
from telnyx.types import ReplacedLinkClickWebhookEvent

from tests.harness import Server, wait_for
from tests.receiving.conftest import App, new_handset, open_line, wait_conversation

pytestmark = pytest.mark.timeout(30)

SHORTENER = {"domain": "links.example", "send_webhooks": True}


def short_links(server: Server, text: str) -> list[str]:
    return re.findall(re.escape(server.base_url) + r"/l/(?:[A-Za-z0-9_-]+/)?[A-Za-z0-9]{8}", text)


def sent_text(client: telnyx.Telnyx, handset: str) -> str:
    received = wait_conversation(client, handset, 1)[0]
    assert received["direction"] == "outbound"
    return str(received["text"])


def test_links_are_shortened_and_clicks_reported(
    server: Server, client: telnyx.Telnyx, app: App
) -> None:
    line = open_line(client, app.url, url_shortener_settings=SHORTENER)
    handset = new_handset()
    text = (
        "Your order: https://shop.example.com/orders/12345?ref=sms. Help: (http://help.example.org)"
    )
    sent = client.messages.send(from_=line.number, to=handset, text=text).data
    assert sent is not None and sent.id
    assert sent.text == text  # the resource keeps what the app sent

    on_air = sent_text(client, handset)
    links = short_links(server, on_air)
    assert len(links) == 2
    assert on_air == f"Your order: {links[0]}. Help: ({links[1]})"
    assert (sent.encoding, sent.parts, sent.num_chars) == ("GSM-7", 1, len(on_air))

    # A preview (HEAD) follows without counting; a GET is a click.
    head = httpx.head(links[0], follow_redirects=False)
    assert head.status_code == 302
    response = httpx.get(links[0], follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example.com/orders/12345?ref=sms"
    assert httpx.get(links[1], follow_redirects=False).headers["location"] == (
        "http://help.example.org"
    )
    code = links[0].rsplit("/", 1)[1]
    clicks = server.query("SELECT code FROM link_clicks WHERE code = :c", c=code)
    assert len(clicks) == 1

    public_key = server.cli("keys", "show").strip()
    verifier = telnyx.Telnyx(api_key="x", public_key=public_key, base_url="http://127.0.0.1:9")
    hooks = wait_for(
        lambda: len(app.received("message.link_click")) >= 2 and app.received("message.link_click")
    )
    events = [verifier.webhooks.unwrap(h.body.decode(), headers=h.headers) for h in hooks]
    assert all(isinstance(e, ReplacedLinkClickWebhookEvent) for e in events)
    first = next(e for e in events if e.data.url.startswith("https://shop"))
    assert first.data.record_type == "link_clicked"
    assert first.data.message_id == sent.id
    assert first.data.to == handset
    assert first.data.time_clicked is not None
    assert hooks[0].json["data"]["event_type"] == "message.link_click"


def test_parts_and_cost_follow_the_text_sent(server: Server, client: telnyx.Telnyx) -> None:
    line = open_line(client, url_shortener_settings={**SHORTENER, "send_webhooks": False})
    handset = new_handset()
    text = "Read https://example.com/" + "a" * 200
    sent = client.messages.send(from_=line.number, to=handset, text=text).data
    assert sent is not None and sent.cost is not None
    assert (sent.parts, sent.cost.amount) == (1, "0.0040")  # 2 parts before shortening
    on_air = sent_text(client, handset)
    link = short_links(server, on_air)[0]
    assert on_air == f"Read {link}"
    assert httpx.get(link, follow_redirects=False).headers["location"] == text[5:]


def test_blacklist_only_and_prefix(server: Server, client: telnyx.Telnyx) -> None:
    settings: dict[str, Any] = {
        "domain": "links.example",
        "prefix": "acme",
        "replace_blacklist_only": True,
    }
    line = open_line(client, url_shortener_settings=settings)
    handset = new_handset()
    client.messages.send(
        from_=line.number, to=handset, text="https://example.com/x and https://bit.ly/3abc"
    )
    on_air = sent_text(client, handset)
    assert on_air.startswith("https://example.com/x and ")
    link = short_links(server, on_air)[0]
    assert link.startswith(f"{server.base_url}/l/acme/")
    assert httpx.get(link, follow_redirects=False).headers["location"] == "https://bit.ly/3abc"


def test_without_shortener_links_stay(client: telnyx.Telnyx) -> None:
    line = open_line(client)
    handset = new_handset()
    client.messages.send(from_=line.number, to=handset, text="https://example.com/keep")
    assert sent_text(client, handset) == "https://example.com/keep"


@pytest.mark.parametrize(
    "path",
    ["/l/AAAAAAAA", "/l/zz", "/l/" + "x" * 300, "/l/%00abc", "/l/%C3%A9t%C3%A9", "/l/a/b"],
)
def test_unknown_codes_are_a_404_page(server: Server, path: str) -> None:
    response = httpx.get(server.base_url + path, follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Link not found" in response.text


def test_url_domains(server: Server, client: telnyx.Telnyx) -> None:
    domains = list(client.messaging_url_domains.list())
    assert [(d.url_domain, d.record_type, d.use_case) for d in domains] == [
        (server.base_url, "messaging_url_domain", "url_shortener")
    ]
    empty = client.messaging_url_domains.list(page_number=2)
    assert empty.data == []
