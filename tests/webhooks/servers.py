"""Real receivers on 127.0.0.1 for webhook tests: polite ones and misbehaving ones."""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import telnyx
from aiohttp import web
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    peer_port: int


@dataclass
class Recorder:
    """What an aiohttp receiver saw."""

    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0


Handler = Callable[[web.Request, Recorder], Awaitable[web.StreamResponse]]


async def ok_handler(request: web.Request, rec: Recorder) -> web.StreamResponse:
    return web.Response(status=200, text="ok")


@asynccontextmanager
async def http_receiver(handler: Handler = ok_handler) -> AsyncIterator[tuple[str, Recorder]]:
    """aiohttp.web receiver on a free port; yields (base URL, recorder)."""
    rec = Recorder()

    async def entry(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        rec.requests.append(Received(body, dict(request.headers), peer[1] if peer else 0))
        rec.in_flight += 1
        rec.max_in_flight = max(rec.max_in_flight, rec.in_flight)
        try:
            return await handler(request, rec)
        finally:
            rec.in_flight -= 1

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", entry)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", rec
    finally:
        await runner.cleanup()


ConnHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    port: int
    connections: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@asynccontextmanager
async def raw_receiver(on_connection: ConnHandler) -> AsyncIterator[RawServer]:
    """Plain asyncio TCP server for receivers that break HTTP on purpose."""
    state = RawServer(port=0)

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        task = asyncio.current_task()
        assert task is not None
        state.tasks.append(task)
        try:
            await on_connection(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in state.tasks:
            task.cancel()
        await asyncio.gather(*state.tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one HTTP request (headers plus Content-Length body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- verification, as receivers do it -------------------------------------------------


def telnyx_unwrap(body: bytes, headers: dict[str, str], public_key_b64: str) -> object:
    """Verify and parse with the official SDK, exactly as a customer would."""
    client = telnyx.Telnyx(api_key="x", public_key=public_key_b64, base_url="http://127.0.0.1:1")
    return client.webhooks.unwrap(body.decode("utf-8"), headers=headers)


def _load_sdk_webhooks() -> None:
    """Unwrap one signed event now: the SDK's first unwrap imports its webhook resource and
    builds its event models (2 s and more on a slow machine), which inside a receiver's
    handler would run into the sender's own timeout."""
    from switchboard.webhooks.envelope import StoredEvent
    from switchboard.webhooks.signing import WebhookSigner, generate_seed, public_key_b64

    seed = generate_seed()
    event = StoredEvent("ev-0", "message.sent", "2026-01-01T00:00:00.000Z", {"id": "m-0"})
    body = event.render(1, "http://127.0.0.1/")
    telnyx_unwrap(
        body, WebhookSigner(seed).sign(body, event.id, int(time.time())), public_key_b64(seed)
    )


_load_sdk_webhooks()


def standard_verify(body: bytes, headers: dict[str, str], public_key: str) -> bool:
    """Standard Webhooks ``v1a`` check, per the spec, with PyNaCl.

    ``public_key`` is ``whpk_`` + base64 of the raw key. The ``standardwebhooks``
    Python package (1.1.0) only verifies ``v1`` (HMAC) signatures, hence this.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg = f"{lowered['webhook-id']}.{lowered['webhook-timestamp']}.".encode() + body
    key = VerifyKey(base64.b64decode(public_key.removeprefix("whpk_"), validate=True))
    for entry in lowered["webhook-signature"].split(" "):
        version, _, sig = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(msg, base64.b64decode(sig, validate=True))
        except BadSignatureError:
            continue
        return True
    return False
