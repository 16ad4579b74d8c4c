"""Receiving tests: a messaging app on 127.0.0.1, virtual handsets, and a profile wired to both."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import telnyx

from tests.harness import Server, new_number, wait_for

_handsets = iter(range(10_000))


def new_handset() -> str:
    """A virtual handset's number, never one of the numbers tests order."""
    return f"+1646555{3000 + next(_handsets):04d}"


@dataclass
class Hook:
    path: str
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


@dataclass
class App:
    """A messaging app's webhook endpoint: records every request, optionally reacts to it."""

    on_hook: Callable[[Hook], None] | None = None
    hooks: list[Hook] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> App:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                hook = Hook(self.path, self.rfile.read(length), dict(self.headers.items()))
                with app._lock:
                    app.hooks.append(hook)
                status = 200
                if app.on_hook is not None:
                    try:
                        app.on_hook(hook)
                    except Exception:  # the test sees the failure through what is missing
                        status = 500
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def received(self, event_type: str = "message.received") -> list[Hook]:
        with self._lock:
            hooks = list(self.hooks)
        return [h for h in hooks if h.json.get("data", {}).get("event_type") == event_type]

    def received_for(self, message_id: str) -> list[Hook]:
        return [h for h in self.received() if h.json["data"]["payload"]["id"] == message_id]


@pytest.fixture
def app() -> Iterator[App]:
    receiver = App().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@dataclass
class Line:
    """A profile with a webhook to `app` and one of our numbers on it."""

    profile_id: str
    number: str


def open_line(client: telnyx.Telnyx, webhook_url: str | None = None, **profile: Any) -> Line:
    fields: dict[str, Any] = {"name": "Receiving", "whitelisted_destinations": ["US"], **profile}
    if webhook_url:
        fields["webhook_url"] = webhook_url
    created = client.messaging_profiles.create(**fields).data
    assert created is not None and created.id
    number = new_number("+1773555")
    client.number_orders.create(
        phone_numbers=[{"phone_number": number}], messaging_profile_id=created.id
    )
    return Line(created.id, number)


@pytest.fixture
def line(client: telnyx.Telnyx, app: App) -> Line:
    return open_line(client, app.url)


def handset_sends(
    client: telnyx.Telnyx,
    handset: str,
    to: str,
    text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """`POST /v2/sandbox/handsets/{handset}/messages` through the SDK's own client."""
    body: dict[str, Any] = {"to": to, **extra}
    if text is not None:
        body["text"] = text
    result = client.post(f"/sandbox/handsets/{handset}/messages", body=body, cast_to=object)
    assert isinstance(result, dict)
    data = result["data"]
    assert isinstance(data, dict)
    return data


def sandbox_messages(client: telnyx.Telnyx, **params: Any) -> dict[str, Any]:
    result = client.get("/sandbox/messages", cast_to=object, options={"params": params})
    assert isinstance(result, dict)
    return result


def conversation(client: telnyx.Telnyx, handset: str) -> list[dict[str, Any]]:
    """Everything that crossed the network to or from `handset`, oldest first."""
    items = sandbox_messages(client, **{"filter[handset]": handset, "page[size]": 250})["data"]
    assert isinstance(items, list)
    return items


def wait_conversation(
    client: telnyx.Telnyx, handset: str, count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (items := conversation(client, handset)) and len(items) >= count and items,
        timeout,
    )


def raw(server: Server, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request the SDK would not send (broken bodies), with the server's API key."""
    headers = {"Authorization": f"Bearer {server.api_key}", **kwargs.pop("headers", {})}
    return httpx.request(method, server.api_url + path, headers=headers, timeout=10, **kwargs)
