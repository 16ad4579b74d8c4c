"""A small HTTP server on 127.0.0.1 serving MMS media for the tests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CAT = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # 2052 bytes, JPEG magic first
PARTY = b"\x89PNG\r\n\x1a\n" + b"p" * 1000
GIF = b"GIF89a" + b"g" * 500
BIG = b"\x89PNG\r\n\x1a\n" + b"b" * 1_200_000

FILES: dict[str, tuple[bytes, str | None]] = {
    "/cat.jpg": (CAT, "image/jpeg"),
    "/party.png": (PARTY, "image/png; charset=binary"),
    "/picture.gif": (GIF, None),  # no Content-Type: taken from the extension
    "/big.png": (BIG, "image/png"),
    "/app.exe": (b"MZ" + b"x" * 100, "application/x-msdownload"),
}
REDIRECTS = {"/redirect": "/cat.jpg", "/loop": "/loop"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path in REDIRECTS:
            self.send_response(302)
            self.send_header("Location", REDIRECTS[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/broken":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path not in FILES:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = FILES[path]
        self.send_response(200)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def serve() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
