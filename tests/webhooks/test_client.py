"""The sender against real receivers on 127.0.0.1, polite and misbehaving."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from switchboard.webhooks.client import AttemptResult, WebhookClient
from switchboard.webhooks.envelope import StoredEvent
from switchboard.webhooks.signing import (
    WebhookSigner,
    generate_seed,
    public_key_b64,
    standard_public_key,
)

from .servers import (
    Recorder,
    http_receiver,
    raw_receiver,
    read_request,
    reset,
    standard_verify,
    telnyx_unwrap,
    unused_port,
)

pytestmark = pytest.mark.timeout(10)

BODY = b'{"data":{"record_type":"event"}}'


def run(coro: Awaitable[Any]) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(9):
            return await coro

    return asyncio.run(bounded())


def status_handler(status: int, **headers: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request, rec: Recorder) -> web.StreamResponse:
        return web.Response(status=status, text=f"status {status}", headers=headers)

    return handler


class TableResolver(AbstractResolver):
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host, host=ip, port=port, family=socket.AF_INET, proto=0, flags=0
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        return None


# --- success and signatures over the wire ---------------------------------------------


def test_signed_delivery_verified_by_receiver() -> None:
    seed, old = generate_seed(), generate_seed()
    now = int(time.time())
    signer = WebhookSigner(seed, previous_seed=old, previous_until=now + 3600)
    event = StoredEvent(
        "ev-1",
        "message.finalized",
        "2026-01-05T10:00:03.210Z",
        {"id": "m-1", "record_type": "message", "text": "héllo"},
    )
    verdicts: list[str] = []

    async def verifying(request: web.Request, rec: Recorder) -> web.StreamResponse:
        raw = await request.read()
        headers = dict(request.headers)
        parsed = telnyx_unwrap(raw, headers, public_key_b64(seed))
        verdicts.append(type(parsed).__name__)
        assert standard_verify(raw, headers, standard_public_key(seed))
        assert standard_verify(raw, headers, standard_public_key(old))
        return web.json_response({"received": True}, headers={"X-Receiver": "yes"})

    async def scenario() -> AttemptResult:
        async with (
            http_receiver(verifying) as (base, rec),
            WebhookClient(allow_private=True) as client,
        ):
            url = f"{base}/hooks"
            body = event.render(1, url)
            result = await client.post(url, body, signer.sign(body, event.id, now))
            assert rec.requests[0].body == body
            assert rec.requests[0].headers["Content-Type"] == "application/json"
            return result

    result = run(scenario())
    assert verdicts == ["DeliveryUpdateWebhookEvent"]
    assert result.ok and result.status == 200 and result.error is None
    assert result.response_body == '{"received": true}'
    assert ("X-Receiver", "yes") in result.response_headers
    assert not result.body_truncated
    sent = dict(result.request_headers)
    assert sent["webhook-id"] == "ev-1" and "telnyx-signature-ed25519" in sent
    assert result.started_at <= result.finished_at
    assert 0 <= result.elapsed_ms < 2000


def test_any_2xx_is_success() -> None:
    async def scenario() -> list[AttemptResult]:
        out = []
        for status in (200, 201, 202, 204):
            async with (
                http_receiver(status_handler(status)) as (base, _),
                WebhookClient(allow_private=True) as client,
            ):
                out.append(await client.post(base, BODY, {}))
        return out

    assert all(r.ok for r in run(scenario()))


def test_keep_alive_reuses_the_connection() -> None:
    async def scenario() -> list[int]:
        async with http_receiver() as (base, rec), WebhookClient(allow_private=True) as client:
            for _ in range(3):
                assert (await client.post(base, BODY, {})).ok
            return [r.peer_port for r in rec.requests]

    ports = run(scenario())
    assert len(ports) == 3 and len(set(ports)) == 1


def test_caller_headers_override_defaults() -> None:
    async def scenario() -> dict[str, str]:
        async with http_receiver() as (base, rec), WebhookClient(allow_private=True) as client:
            await client.post(base, BODY, {"content-type": "application/json; charset=utf-8"})
            return rec.requests[0].headers

    headers = run(scenario())
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("switchboard-webhooks")


# --- misbehaving receivers ------------------------------------------------------------


def test_hang_past_timeout() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(30)

    async def scenario() -> AttemptResult:
        async with raw_receiver(hang) as srv, WebhookClient(allow_private=True) as client:
            return await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {}, timeout=0.3)

    result = run(scenario())
    assert not result.ok
    assert result.error == "timeout" and result.status is None
    assert 250 <= result.elapsed_ms < 1500


def test_headers_in_time_then_body_stalls() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(30)

    async def scenario() -> AttemptResult:
        async with raw_receiver(stall) as srv, WebhookClient(allow_private=True) as client:
            return await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {}, timeout=0.3)

    result = run(scenario())
    assert result.ok and result.status == 200  # the 2xx arrived within the deadline
    assert result.body_truncated and result.response_body == "partial"
    assert result.elapsed_ms < 1500


def test_connection_reset() -> None:
    async def rst(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reset(writer)

    async def scenario() -> AttemptResult:
        async with raw_receiver(rst) as srv, WebhookClient(allow_private=True) as client:
            return await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {})

    result = run(scenario())
    assert result.error == "connection_reset" and result.status is None


def test_closed_without_response_counts_as_reset() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async def scenario() -> AttemptResult:
        async with raw_receiver(hang_up) as srv, WebhookClient(allow_private=True) as client:
            return await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {})

    result = run(scenario())
    assert result.error == "connection_reset" and not result.ok


def test_server_error_recorded() -> None:
    async def scenario() -> AttemptResult:
        async with (
            http_receiver(status_handler(500)) as (base, _),
            WebhookClient(allow_private=True) as client,
        ):
            return await client.post(base, BODY, {})

    result = run(scenario())
    assert not result.ok
    assert result.status == 500 and result.error == "http_status"
    assert result.response_body == "status 500"


def test_redirect_not_followed() -> None:
    async def scenario() -> tuple[AttemptResult, int]:
        async with http_receiver() as (target, target_rec):
            handler = status_handler(302, Location=f"{target}/elsewhere")
            async with (
                http_receiver(handler) as (base, _),
                WebhookClient(allow_private=True) as client,
            ):
                result = await client.post(base, BODY, {})
            return result, len(target_rec.requests)

    result, followed = run(scenario())
    assert followed == 0
    assert not result.ok
    assert result.status == 302 and result.error == "redirect_not_followed"
    assert result.detail is not None and "/elsewhere" in result.detail


def test_huge_body_is_capped() -> None:
    total = 50 * 1024 * 1024
    written = 0

    async def scenario() -> AttemptResult:
        done = asyncio.Event()

        async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal written
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            chunk = b"x" * 65536
            try:
                while written < total:
                    writer.write(chunk)
                    await writer.drain()
                    written += len(chunk)
            finally:
                done.set()

        async with (
            raw_receiver(flood) as srv,
            WebhookClient(allow_private=True, max_body_bytes=16 * 1024) as client,
        ):
            result = await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {})
            async with asyncio.timeout(3):
                await done.wait()  # the sender hung up; the receiver's writes failed
            return result

    result = run(scenario())
    assert result.ok and result.status == 200
    assert result.body_truncated
    assert len(result.response_body) == 16 * 1024
    assert written < total  # the connection was dropped long before 50 MB
    assert result.elapsed_ms < 2000


def test_connection_refused() -> None:
    async def scenario() -> AttemptResult:
        async with WebhookClient(allow_private=True) as client:
            return await client.post(f"http://127.0.0.1:{unused_port()}/", BODY, {})

    result = run(scenario())
    assert result.error == "connection_refused" and result.status is None


def test_invalid_url_is_a_result() -> None:
    async def scenario() -> AttemptResult:
        async with WebhookClient() as client:
            return await client.post("ftp://example.com/x", BODY, {})

    result = run(scenario())
    assert result.error == "invalid_url" and not result.ok


# --- SSRF -----------------------------------------------------------------------------


def test_loopback_refused_in_production_allowed_in_sandbox() -> None:
    async def handler_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async def scenario() -> tuple[AttemptResult, int, AttemptResult, int]:
        async with raw_receiver(handler_conn) as srv:
            url = f"http://127.0.0.1:{srv.port}/"
            async with WebhookClient(allow_private=False) as client:
                blocked = await client.post(url, BODY, {})
                # A refused URL is not remembered as checked: refused again.
                again = await client.post(url, BODY, {})
                assert again.error == "ssrf_blocked"
            seen_blocked = srv.connections
            async with WebhookClient(allow_private=True) as client:
                allowed = await client.post(url, BODY, {})
            return blocked, seen_blocked, allowed, srv.connections

    blocked, seen_blocked, allowed, seen_total = run(scenario())
    assert blocked.error == "ssrf_blocked" and blocked.status is None
    assert blocked.detail is not None and "loopback" in blocked.detail
    assert seen_blocked == 0  # not even a TCP connection
    assert allowed.ok and seen_total == 1


def test_names_resolving_to_forbidden_addresses_are_refused() -> None:
    resolver = TableResolver(
        {
            "localhost.test": ["127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "intranet.test": ["10.0.0.7"],
        }
    )

    async def scenario() -> list[AttemptResult]:
        async with WebhookClient(allow_private=False, resolver=resolver) as client:
            return [
                await client.post(f"http://{name}/hook", BODY, {})
                for name in ("localhost.test", "metadata.test", "intranet.test")
            ]

    results = run(scenario())
    assert [r.error for r in results] == ["ssrf_blocked"] * 3
    assert resolver.asked == ["localhost.test", "metadata.test", "intranet.test"]


def test_resolved_forbidden_addresses_are_skipped_in_sandbox() -> None:
    async def scenario() -> AttemptResult:
        async with http_receiver() as (base, rec):
            port = base.rsplit(":", 1)[1]
            resolver = TableResolver({"app.test": ["169.254.169.254", "127.0.0.1"]})
            async with WebhookClient(allow_private=True, resolver=resolver) as client:
                result = await client.post(f"http://app.test:{port}/hook", BODY, {})
            assert len(rec.requests) == 1
            return result

    assert run(scenario()).ok


def test_literal_forbidden_addresses_refused_without_traffic() -> None:
    async def scenario() -> list[AttemptResult]:
        async with WebhookClient(allow_private=True) as client:
            return [
                await client.post(url, BODY, {})
                for url in (
                    "http://169.254.169.254/latest/meta-data",
                    "http://0.0.0.0:1/",
                    "http://[::ffff:169.254.169.254]/",
                    "http://224.0.0.1/",
                )
            ]

    for result in run(scenario()):
        assert result.error == "ssrf_blocked"
        assert result.elapsed_ms < 100


# --- concurrency ----------------------------------------------------------------------


async def slow_ok(request: web.Request, rec: Recorder) -> web.StreamResponse:
    await asyncio.sleep(0.15)
    return web.Response(status=200)


def test_per_host_concurrency_bound() -> None:
    async def scenario() -> tuple[int, list[AttemptResult], int]:
        async with (
            http_receiver(slow_ok) as (base, rec),
            WebhookClient(allow_private=True, per_host_limit=3) as client,
        ):
            results = await asyncio.gather(*(client.post(base, BODY, {}) for _ in range(12)))
            return rec.max_in_flight, list(results), client.tracked_hosts()

    max_seen, results, tracked = run(scenario())
    assert max_seen == 3
    assert all(r.ok for r in results)  # waiting for a slot is not part of the deadline
    assert tracked == 0


def test_overall_concurrency_bound() -> None:
    async def scenario() -> int:
        async with http_receiver(slow_ok) as (base, rec):
            port = base.rsplit(":", 1)[1]
            names = [f"h{i}.test" for i in range(4)]
            resolver = TableResolver({n: ["127.0.0.1"] for n in names})
            async with WebhookClient(
                allow_private=True, per_host_limit=5, total_limit=4, resolver=resolver
            ) as client:
                results = await asyncio.gather(
                    *(client.post(f"http://{n}:{port}/", BODY, {}) for n in names * 3)
                )
            assert all(r.ok for r in results)
            return rec.max_in_flight

    assert run(scenario()) == 4


def test_socket_guard_holds_without_the_pre_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Literal IPs skip resolvers; the connect-time guard alone must still refuse them."""
    import switchboard.webhooks.client as client_module

    monkeypatch.setattr(client_module, "check_address", lambda *a, **k: None)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async def scenario() -> tuple[AttemptResult, int]:
        async with raw_receiver(answer) as srv, WebhookClient(allow_private=False) as client:
            result = await client.post(f"http://127.0.0.1:{srv.port}/", BODY, {})
            return result, srv.connections

    result, connections = run(scenario())
    assert result.error == "ssrf_blocked"
    assert connections == 0


def test_a_complete_body_over_the_cap_is_cut_to_the_cap() -> None:
    # A body that arrives whole with the headers is taken at once, and still capped.
    async def big(request: web.Request, rec: object) -> web.StreamResponse:
        return web.Response(body=b"x" * 20_000, content_type="text/plain")

    async def scenario() -> AttemptResult:
        async with (
            http_receiver(big) as (base, _rec),
            WebhookClient(allow_private=True, max_body_bytes=16 * 1024) as client,
        ):
            return await client.post(f"{base}/hooks", BODY, {})

    result = run(scenario())
    assert result.ok and result.status == 200
    assert result.body_truncated and result.response_body == "x" * 16 * 1024
    assert result.detail == "body cut at 16384 bytes"
