"""Idle keep-alive connections outlive the clients' own idle expiry (5 s for httpx and the
Telnyx SDKs), so it is the client that closes them: a request sent just as the server
closed an idle connection would fail, and a retrying client might send a message twice."""

from __future__ import annotations

import socket
import time

from tests.harness import Server

CLIENT_IDLE_EXPIRY = 5.0


def _get_healthz(sock: socket.socket, port: int) -> bytes:
    """One whole response (head and body: the body may come in a later segment)."""
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_an_idle_connection_stays_open_past_the_clients_expiry(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        assert _get_healthz(sock, server.port).startswith(b"HTTP/1.1 200")
        time.sleep(CLIENT_IDLE_EXPIRY + 1.0)
        second = _get_healthz(sock, server.port)
        assert second.startswith(b"HTTP/1.1 200"), (
            f"the server closed the idle connection: {second!r}"
        )
