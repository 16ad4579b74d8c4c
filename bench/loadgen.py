"""An aiohttp load generator, run in its own process so it does not share a core with the server.

Two modes:

* closed loop (`--rate 0`): `--connections` keep-alive clients, each sending its next request
  as soon as the previous one is answered (what wrk does);
* open loop (`--rate R`): requests start on a fixed schedule of R per second whatever the
  server does, and each latency is counted from the request's *scheduled* start, so a server
  that falls behind shows it in p99 instead of silently slowing the generator (the
  coordinated-omission problem wrk2 solves; wrk2 is not packaged by Debian).

Prints one JSON line (a `bench.common.LoadResult`).

    python -m bench.loadgen --url http://127.0.0.1:8080/v2/messages --rate 1000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import JSON_HEADERS, SEND_BODY, LoadResult, percentile

GRACE_SECONDS = 15.0  # how long unanswered requests may run on after the schedule ends

OnOk = Callable[[float, float, bytes], None]  # (scheduled start, answered at, body)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, 2xx only
    ok: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    def error(self, what: str) -> None:
        self.errors += 1
        self.statuses[what] = self.statuses.get(what, 0) + 1
        if self.first_error is None:
            self.first_error = what


async def _one(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    start: float,
    tally: Tally,
    on_ok: OnOk | None,
) -> None:
    try:
        async with session.post(url, data=body, headers=JSON_HEADERS) as resp:
            payload = await resp.read()
            done = time.monotonic()
            if 200 <= resp.status < 300:
                tally.ok += 1
                tally.latencies.append(done - start)
                if on_ok is not None:
                    on_ok(start, done, payload)
            else:
                tally.error(f"HTTP {resp.status}: {payload[:200]!r}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        tally.error(type(exc).__name__)


async def closed_loop(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    seconds: float,
    connections: int,
    limit: int = 0,
    on_ok: OnOk | None = None,
) -> tuple[Tally, float]:
    tally = Tally()
    began = time.monotonic()
    deadline = began + seconds
    sent = 0

    async def client() -> None:
        nonlocal sent
        while time.monotonic() < deadline and (limit <= 0 or sent < limit):
            sent += 1
            await _one(session, url, body, time.monotonic(), tally, on_ok)

    await asyncio.gather(*(client() for _ in range(connections)))
    return tally, time.monotonic() - began


async def open_loop(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    rate: float,
    seconds: float,
    limit: int = 0,
    on_ok: OnOk | None = None,
) -> tuple[Tally, float]:
    tally = Tally()
    total = int(rate * seconds)
    if limit > 0:
        total = min(total, limit)
    tasks: set[asyncio.Task[None]] = set()
    began = time.monotonic()
    for i in range(total):
        scheduled = began + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(_one(session, url, body, scheduled, tally, on_ok))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=GRACE_SECONDS)
        for task in pending:
            task.cancel()
            tally.error("unanswered at the end")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
    return tally, time.monotonic() - began


def result(tally: Tally, elapsed: float, *, rate: float, connections: int) -> LoadResult:
    lat = tally.latencies
    mode = (
        f"open loop, {rate:,.0f}/s scheduled"
        if rate > 0
        else f"closed loop, {connections} keep-alive connections"
    )
    return LoadResult(
        tool="aiohttp generator (bench/loadgen.py, separate process)",
        mode=mode,
        requests=tally.ok + tally.errors,
        ok=tally.ok,
        errors=tally.errors,
        seconds=elapsed,
        rps=tally.ok / elapsed if elapsed else 0.0,
        p50_ms=percentile(lat, 50) * 1000,
        p90_ms=percentile(lat, 90) * 1000,
        p99_ms=percentile(lat, 99) * 1000,
        max_ms=max(lat, default=0.0) * 1000,
        extra={"statuses": tally.statuses, "first_error": tally.first_error},
    )


def session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def amain(args: argparse.Namespace) -> LoadResult:
    body = args.body.encode()
    async with session(args.connections) as s:
        if args.rate > 0:
            tally, elapsed = await open_loop(
                s, args.url, body, rate=args.rate, seconds=args.seconds, limit=args.limit
            )
        else:
            tally, elapsed = await closed_loop(
                s,
                args.url,
                body,
                seconds=args.seconds,
                connections=args.connections,
                limit=args.limit,
            )
    return result(tally, elapsed, rate=args.rate, connections=args.connections)


def run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="0 = closed loop")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many requests")
    parser.add_argument("--body", default=SEND_BODY)
    args = parser.parse_args()
    args.seconds = min(args.seconds, 3600.0)
    res = run(amain(args))
    print(json.dumps(res.as_dict()))


if __name__ == "__main__":
    main()
