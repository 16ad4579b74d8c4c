"""A webhook receiver on 127.0.0.1 for tests driven by the synchronous SDK.

Each path picks a behaviour (the rest of the path is free, so one receiver can stand in
for several endpoints):

* `/ok/...`: 200 at once;
* `/fail/...`: 500 always;
* `/flaky/<n>/...`: 500 for the first `n` requests of each event (by `data.id`), then 200;
* `/hang/...`: answers 200 only after `hang_seconds` (or when released);
* `/reset/...`: reads the request, then resets the connection (RST, no response).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import telnyx

from tests.webhooks.servers import standard_verify


@dataclass
class Hit:
    path: str
    body: bytes
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived

    @property
    def json(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    @property
    def event_id(self) -> str:
        return str(self.json["data"]["id"])

    @property
    def event_type(self) -> str:
        return str(self.json["data"]["event_type"])

    @property
    def message_id(self) -> str:
        return str(self.json["data"]["payload"]["id"])


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    hang_seconds: float = 3.0
    hits: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def release(self) -> None:
        """Let every hanging request answer now (and later ones at once)."""
        self._release.set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}/{path.lstrip('/')}"

    # --- what arrived -------------------------------------------------------------------

    def hits_for(self, message_id: str) -> list[Hit]:
        with self._lock:
            hits = list(self.hits)
        return [h for h in hits if h.message_id == message_id]

    def wait_hits(self, message_id: str, count: int, timeout: float = 10.0) -> list[Hit]:
        """The requests about `message_id` once at least `count` have arrived."""
        self.wait_for(lambda: len(self.hits_for(message_id)) >= count, timeout)
        return self.hits_for(message_id)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                with self._lock:
                    paths = [(h.path, h.event_type) for h in self.hits]
                raise AssertionError(f"receiver: condition not met in {timeout}s; got {paths}")
            time.sleep(0.02)

    # --- behaviours ---------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("content-length") or 0)
        body = req.rfile.read(length)
        hit = Hit(req.path, body, {k: v for k, v in req.headers.items()}, time.monotonic())
        with self._lock:
            self.hits.append(hit)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            parts = req.path.strip("/").split("/")
            kind = parts[0]
            if kind == "reset":
                sock = req.connection
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                req.close_connection = True
                return
            status = 200
            if kind == "fail":
                status = 500
            elif kind == "flaky":
                key = (req.path, hit.event_id)
                with self._lock:
                    self._seen[key] += 1
                    count = self._seen[key]
                status = 500 if count <= int(parts[1]) else 200
            elif kind == "hang":
                self._release.wait(self.hang_seconds)
            self._respond(req, status)
        finally:
            with self._lock:
                self.in_flight -= 1

    @staticmethod
    def _respond(req: BaseHTTPRequestHandler, status: int) -> None:
        payload = b'{"received":true}' if status == 200 else b"receiver error"
        try:
            req.send_response(status)
            req.send_header("Content-Type", "text/plain")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
        except OSError:
            pass  # the sender gave up (timeout) and closed the connection


def verify(hit: Hit, public_key: str) -> Any:
    """Check a request as a customer would: the official SDK, then Standard Webhooks v1a."""
    client = telnyx.Telnyx(api_key="x", public_key=public_key, base_url="http://127.0.0.1:9")
    event = client.webhooks.unwrap(hit.body.decode("utf-8"), headers=hit.headers)
    assert standard_verify(hit.body, hit.headers, "whpk_" + public_key)
    assert hit.headers["webhook-id"] == hit.event_id
    return event
