"""The console over plain HTTP: its place beside the API, live answers, form protection,
and gateway mode (off by default, on with `console.enabled`)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import telnyx

from switchboard.app import create_app
from switchboard.config import ConsoleSettings, Settings
from tests.harness import Server, new_number
from tests.receiving.conftest import new_handset, open_line

pytestmark = pytest.mark.timeout(30)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _chat_path(handset: str, number: str) -> str:
    return f"/conversations/{quote(handset, safe='+')}/{quote(number, safe='+')}"


def test_console_lives_beside_the_api(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as web:
        page = web.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        cookie = page.headers["set-cookie"]
        assert "switchboard_console_csrf=" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        for path in ("/conversations", "/numbers", "/profiles", "/opt-outs"):
            assert web.get(path).status_code == 200, path
        css = web.get("/static/console.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert web.get("/static/console.js").status_code == 200

        # The API, health check and short links answer as before.
        assert web.get("/healthz").json() == {"status": "ok"}
        api = web.get("/v2/messages/nope", headers={"Authorization": f"Bearer {server.api_key}"})
        assert api.status_code == 404 and api.json()["errors"][0]["code"] == "10005"
        assert web.get("/v2/messages/nope").status_code == 401
        link = web.get("/l/NoSuchCd", follow_redirects=False)
        assert link.status_code == 404 and "Link not found" in link.text

        missing = web.get("/messages/01a21b00-0000-7000-8000-000000000000")
        assert missing.status_code == 404 and "Message not found" in missing.text


def test_live_regions_answer_small_json(server: Server, client: telnyx.Telnyx) -> None:
    line = open_line(client)
    with httpx.Client(base_url=server.base_url, timeout=10) as web:
        first = web.get("/", params={"number": line.number, "live": ""}).json()
        assert set(first) == {"version", "html"}
        assert "No messages match" in first["html"]
        same = web.get("/", params={"number": line.number, "live": first["version"]}).json()
        assert same == {"version": first["version"]}  # unchanged: no html
        client.messages.send(from_=line.number, to=new_handset(), text="live one")
        changed = web.get("/", params={"number": line.number, "live": first["version"]}).json()
        assert changed["version"] != first["version"] and "live one" in changed["html"]


def test_forms_need_the_token_and_the_same_origin(server: Server, client: telnyx.Telnyx) -> None:
    line = open_line(client)
    handset = new_handset()
    path = _chat_path(handset, line.number)

    def stored() -> int:
        rows = server.query("SELECT count(*) AS n FROM messages WHERE from_address = :h", h=handset)
        return int(rows[0]["n"])

    with httpx.Client(base_url=server.base_url, timeout=10) as web:
        token = TOKEN.search(web.get(path).text)
        assert token is not None
        good = {"csrf_token": token.group(1), "text": "hello"}

        with httpx.Client(base_url=server.base_url, timeout=10) as stranger:  # no cookie
            assert stranger.post(path, data=good).status_code == 403
        assert web.post(path, data={**good, "csrf_token": "forged"}).status_code == 403
        assert web.post(path, data={"text": "hello"}).status_code == 403
        cross = web.post(path, data=good, headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403 and "expired" in cross.text
        assert web.post(path, json=good).status_code == 403
        resend = web.post("/messages/x/webhooks/y/resend", data={"text": ""})
        assert resend.status_code == 403
        assert stored() == 0

        sent = web.post(
            path, data=good, headers={"Origin": server.base_url}, follow_redirects=False
        )
        assert sent.status_code == 303 and sent.headers["location"] == path
        assert stored() == 1

        # A number nobody owns: the network drops the message, and the page says so.
        nobody = new_number("+1415555")
        dropped = web.post(_chat_path(handset, nobody), data=good, follow_redirects=False)
        assert dropped.status_code == 303
        assert dropped.headers["location"] == _chat_path(handset, nobody) + "?notice=dropped"
        assert "dropped the message" in web.get(dropped.headers["location"]).text

        unknown = web.post(
            "/messages/x/webhooks/not-a-delivery/resend", data={"csrf_token": good["csrf_token"]}
        )
        assert unknown.status_code == 404

        # A handset number that is not E.164 has no conversation page to post to.
        bad = web.post(_chat_path("12345", line.number), data=good)
        assert bad.status_code == 404 and "Not a phone number" in bad.text
        assert stored() == 1


@pytest.mark.parametrize("enabled", [None, True, False])
def test_gateway_mode(tmp_path: Path, enabled: bool | None) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        mode="gateway",
        console=ConsoleSettings(enabled=enabled),
    )
    app = create_app(settings, run_workers=False)

    async def check() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as web:
                assert (await web.get("/healthz")).status_code == 200
                page = await web.get("/")
                if not enabled:  # off unless asked for
                    assert page.status_code == 404
                    assert (await web.get("/static/console.css")).status_code == 404
                    return
                assert page.status_code == 200 and "gateway" in page.text
                chat = _chat_path("+13125550100", "+12025550142")
                view = await web.get(chat)
                assert view.status_code == 200
                assert "needs the sandbox network" in view.text
                assert 'id="composer"' not in view.text
                token = view.cookies["switchboard_console_csrf"]
                sent = await web.post(chat, data={"csrf_token": token, "text": "hi"})
                assert sent.status_code == 422

    asyncio.run(check())


def test_sandbox_default_is_on() -> None:
    assert Settings().console_enabled is True
    assert Settings(mode="gateway").console_enabled is False
    assert Settings(mode="gateway", console=ConsoleSettings(enabled=True)).console_enabled
    assert not Settings(console=ConsoleSettings(enabled=False)).console_enabled
