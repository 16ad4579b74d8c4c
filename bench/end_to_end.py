"""End to end: accepted → delivered (sandbox) → `message.finalized` webhook at a local receiver.

A receiver (bench/receiver.py, its own process, a free port of 127.0.0.1) stands in for the
customer's app; the sandbox profile's `webhook_url` points at it. Two phases:

1. latency: messages at a fixed rate (default 200/s, open loop) for `--seconds`; for each,
   the time from the start of its `POST /v2/messages` to the arrival of its
   `message.finalized` webhook (p50/p99), beside the POST's own latency;
2. throughput: 64 closed-loop clients for `--seconds`, then the rate at which messages reach
   `message.finalized` (sustained: finalized / time from the first POST to the last webhook),
   beside the accept rate of the same phase.

When the server sends no webhooks (a probe message gets none within `--probe-timeout`), both
phases still run and the figures come from the `messages` table instead:
`completed_at - received_at` (server clock, accept → delivered) and finalized rows per second.
The output says which one was measured. The sandbox's receipt delay is set to
`--delivery-delay` (default 0 s, so the figures are the platform's own time).

`--role serve` (the default) measures the sandbox as developers run it: `switchboard serve`,
one process doing everything on one core. `--role split` runs the same sandbox as two
processes on the same SQLite file, `switchboard api` (accepting) and `switchboard worker`
(dispatcher, sandbox carrier, receipts, webhooks), as an operator would split the roles.
`--backend postgresql` runs either on a throwaway PostgreSQL database (created on
`--pg-url`'s server, migrated, dropped afterwards) instead of a SQLite file.

    python -m bench.end_to_end --rate 200 --seconds 20
    python -m bench.end_to_end --rate 200 --seconds 20 --role split
    python -m bench.end_to_end --rate 200 --seconds 20 --role split --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import (
    BIN,
    DEFAULT_PG,
    SEND_BODY,
    LocalHttpProcess,
    Proc,
    Switchboard,
    cpu_seconds,
    dump_json,
    fmt,
    get_json,
    header,
    loadavg,
    migrate,
    percentile,
    post_json,
    server_env,
    table,
    throwaway_postgres,
    wait_log,
    workdir,
)

TERMINAL = ("delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired")
FINALIZED = "message.finalized"


class Receiver(LocalHttpProcess):
    def __init__(self, work: Path) -> None:
        super().__init__(work, "receiver")

    @property
    def hook_url(self) -> str:
        return f"{self.base}/hooks"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.base}/stats", timeout=10) as resp:
            return dict(json.loads(resp.read()))

    def finalized_at(self) -> dict[str, float]:
        """Message id → arrival time of its first `message.finalized`."""
        with urllib.request.urlopen(f"{self.base}/dump", timeout=60) as resp:
            records = json.loads(resp.read())
        seen: dict[str, float] = {}
        for arrived, event_type, message_id, _status in records:
            if event_type == FINALIZED and message_id not in seen:
                seen[message_id] = arrived
        return seen


def point_profile_at(sb: Switchboard, url: str) -> str:
    """Set the sandbox profile's webhook_url; its id."""
    profiles = get_json(f"{sb.base}/v2/messaging_profiles")["data"]
    profile_id = str(profiles[0]["id"])
    post_json(f"{sb.base}/v2/messaging_profiles/{profile_id}", {"webhook_url": url}, "PATCH")
    return profile_id


Rows = dict[str, tuple[str, datetime, datetime | None]]
_ROWS_SQL = "SELECT id, status, received_at, completed_at FROM messages"


def db_rows(db_url: str) -> Rows:
    """Every message's id → (status, received_at, completed_at), read outside the server."""
    if db_url.startswith("sqlite:///"):
        path = db_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(_ROWS_SQL).fetchall()
        finally:
            conn.close()
        return {
            r[0]: (
                r[1],
                datetime.fromisoformat(r[2]),
                datetime.fromisoformat(r[3]) if r[3] else None,
            )
            for r in rows
        }
    return asyncio.run(_postgres_rows(db_url))


async def _postgres_rows(db_url: str) -> Rows:
    import asyncpg

    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(_ROWS_SQL)
    finally:
        await conn.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@contextlib.contextmanager
def database(backend: str, work: Path, pg_url: str) -> Iterator[str]:
    """The URL of a new database: a SQLite file in `work`, or a migrated throwaway
    PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{work / 'e2e.db'}"
        return
    with throwaway_postgres(pg_url) as url:
        migrate(url, work)
        yield url


def wait_until(done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.5)
    return False


async def _send_phase(
    url: str, *, rate: float, seconds: float, connections: int
) -> tuple[loadgen.Tally, float, float, dict[str, float]]:
    """Run one phase; (tally, elapsed, start, message id → POST start)."""
    started: dict[str, float] = {}
    body = SEND_BODY.encode()

    def on_ok(start: float, _done: float, payload: bytes) -> None:
        started[json.loads(payload)["data"]["id"]] = start

    began = time.monotonic()
    async with loadgen.session(256 if rate > 0 else connections) as s:
        if rate > 0:
            tally, elapsed = await loadgen.open_loop(
                s, url, body, rate=rate, seconds=seconds, on_ok=on_ok
            )
        else:
            tally, elapsed = await loadgen.closed_loop(
                s, url, body, seconds=seconds, connections=connections, on_ok=on_ok
            )
    return tally, elapsed, began, started


def run(
    *,
    rate: float = 200.0,
    seconds: float = 20.0,
    connections: int = 64,
    delivery_delay: float = 0.0,
    probe_timeout: float = 10.0,
    drain_timeout: float = 120.0,
    per_host_limit: int = 64,
    role: str = "serve",
    backend: str = "sqlite",
    pg_url: str = DEFAULT_PG,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "load_at_start": loadavg(),
        "delivery_delay": delivery_delay,
        "per_host_limit": per_host_limit,
        "role": role,
        "backend": backend,
    }
    with workdir() as work, database(backend, work, pg_url) as db_url:
        env = {
            "SWITCHBOARD_SANDBOX__DELIVERY_DELAY": str(delivery_delay),
            # Every webhook goes to the one receiver: the per-host bound (8 by default, a
            # courtesy to customers' servers) would measure that policy, not the platform.
            "SWITCHBOARD_WEBHOOKS__PER_HOST_LIMIT": str(per_host_limit),
        }
        receiver = Receiver(work)
        worker: Proc | None = None
        sb = Switchboard(db_url, work, env=env, role="api" if role == "split" else "serve")
        if role == "split":
            worker = Proc(
                [str(BIN / "switchboard"), "worker", "--db", db_url],
                log_path=work / "switchboard-worker.log",
                env=server_env(env),
                cwd=work,
            )
            wait_log(worker, " ready")  # the probe below must not time the worker's start
        try:
            try:
                point_profile_at(sb, receiver.hook_url)
                out["profile_webhook"] = "set"
            except Exception as exc:  # the PATCH itself failing is a finding, not a crash
                out["profile_webhook"] = f"could not be set: {exc}"
            probe_start = time.monotonic()
            probe = post_json(sb.send_url, json.loads(SEND_BODY))["data"]["id"]
            probe_answer = time.monotonic()
            webhooks = wait_until(
                lambda: receiver.stats().get("finalized_distinct", 0) > 0, probe_timeout
            )
            out["webhooks"] = webhooks
            out["probe"] = {"id": probe, "accept_ms": (probe_answer - probe_start) * 1000}
            if webhooks:
                hook_at = receiver.finalized_at().get(probe)
                if hook_at is not None:
                    out["probe"]["webhook_ms"] = (hook_at - probe_start) * 1000

            phases: dict[str, dict[str, Any]] = {}
            expected = 1  # finalized webhooks due so far: the probe's, then each phase's
            servers = [sb.proc] + ([worker] if worker is not None else [])
            for name, phase_rate in (("latency", rate), ("throughput", 0.0)):
                cpu_before = sum(cpu_seconds(p.pid) for p in servers)
                tally, elapsed, began, started = loadgen.run(
                    _send_phase(
                        sb.send_url, rate=phase_rate, seconds=seconds, connections=connections
                    )
                )
                ids = set(started)
                expected += len(ids)
                if webhooks:
                    # Requests the generator gave up on may still have been accepted, so
                    # the count is only a cheap first test; then the phase's own ids.
                    wait_until(
                        lambda n=expected, ids=ids: (
                            receiver.stats().get("finalized_distinct", 0) >= n
                            and ids <= receiver.finalized_at().keys()
                        ),
                        drain_timeout,
                    )
                else:
                    wait_until(
                        lambda ids=ids: (
                            sum(
                                1
                                for i, r in db_rows(db_url).items()
                                if i in ids and r[0] in TERMINAL
                            )
                            >= len(ids)
                        ),
                        drain_timeout,
                    )
                phases[name] = {
                    "server_cpu": sum(cpu_seconds(p.pid) for p in servers) - cpu_before,
                    "tally": tally,
                    "elapsed": elapsed,
                    "began": began,
                    "started": started,
                    "finalized": receiver.finalized_at() if webhooks else {},
                }
            rows = db_rows(db_url)
            webhook_stats = receiver.stats()
        finally:
            sb.stop()
            if worker is not None:
                worker.stop()
            receiver.stop()

    out["webhook_counts"] = webhook_stats
    for name, ph in phases.items():
        ph_tally: loadgen.Tally = ph["tally"]
        started = ph["started"]
        res: dict[str, Any] = {
            "accepted": ph_tally.ok,
            "errors": ph_tally.errors,
            "elapsed": ph["elapsed"],
            "accept_rps": ph_tally.ok / ph["elapsed"] if ph["elapsed"] else 0.0,
            "accept_p50_ms": percentile(ph_tally.latencies, 50) * 1000,
            "accept_p99_ms": percentile(ph_tally.latencies, 99) * 1000,
        }
        mine = {i: rows[i] for i in started if i in rows}
        final_rows = {i: r for i, r in mine.items() if r[0] in TERMINAL and r[2] is not None}
        db_lat = [(r[2] - r[1]).total_seconds() for r in final_rows.values() if r[2]]
        res["db_finalized"] = len(final_rows)
        # Server CPU from the phase's first request until its last message was finalized
        # (and its webhooks received, when there are webhooks), per message.
        res["server_cpu_s"] = ph["server_cpu"]
        res["server_cpu_ms_per_message"] = (
            ph["server_cpu"] * 1000 / len(final_rows) if final_rows else 0.0
        )
        res["db_by_status"] = {
            s: sum(1 for r in mine.values() if r[0] == s) for s in {r[0] for r in mine.values()}
        }
        res["db_p50_ms"] = percentile(db_lat, 50) * 1000
        res["db_p99_ms"] = percentile(db_lat, 99) * 1000
        if final_rows:
            first = min(r[1] for r in final_rows.values())
            last = max(r[2] for r in final_rows.values() if r[2])
            span = (last - first).total_seconds()
            res["db_finalized_rps"] = len(final_rows) / span if span > 0 else 0.0
        if ph["finalized"]:
            fin = {i: t for i, t in ph["finalized"].items() if i in started}
            hook_lat = [t - started[i] for i, t in fin.items()]
            res["webhook_finalized"] = len(fin)
            res["webhook_p50_ms"] = percentile(hook_lat, 50) * 1000
            res["webhook_p99_ms"] = percentile(hook_lat, 99) * 1000
            if fin:
                span = max(fin.values()) - ph["began"]
                res["webhook_finalized_rps"] = len(fin) / span if span > 0 else 0.0
                window_end = ph["began"] + ph["elapsed"]
                in_window = sum(1 for t in fin.values() if t <= window_end)
                res["webhook_finalized_rps_during_load"] = in_window / ph["elapsed"]
        out[name] = res
    out["load_at_end"] = loadavg()
    out["rate"] = rate
    out["seconds"] = seconds
    return out


_ROLES = {"serve": "switchboard serve", "split": "switchboard api + worker"}
_BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def report(out: dict[str, Any]) -> str:
    lat, thr = out["latency"], out["throughput"]
    hooks = out["webhooks"]
    source = (
        "message.finalized webhooks at the local receiver (POST start → webhook arrival)"
        if hooks
        else "the messages table: completed_at - received_at (server clock, accept → delivered);"
        " NO webhook arrived at the receiver, so webhook figures are not available"
    )
    probe = out.get("probe", {})
    rows: list[list[Any]] = [
        [
            "one message alone: POST / accept → " + ("webhook" if hooks else "delivered") + ", ms",
            f"{probe.get('accept_ms', 0):.1f} / "
            + (f"{probe['webhook_ms']:.1f}" if "webhook_ms" in probe else "–"),
            "before the load: the unloaded baseline",
        ],
        [
            f"fixed rate {out['rate']:,.0f}/s, {out['seconds']:.0f} s: accepted",
            fmt(lat["accepted"]),
            f"errors {lat['errors']}",
        ],
        [
            "  POST latency p50 / p99, ms (baseline: accept alone)",
            f"{lat['accept_p50_ms']:.1f} / {lat['accept_p99_ms']:.1f}",
            "",
        ],
    ]
    if hooks:
        rows.append(
            [
                "  accept → message.finalized webhook p50 / p99, ms",
                f"{lat.get('webhook_p50_ms', 0):.1f} / {lat.get('webhook_p99_ms', 0):.1f}",
                f"{lat.get('webhook_finalized', 0):,} of {lat['accepted']:,} got one",
            ]
        )
    rows.append(
        [
            "  accept → delivered (DB) p50 / p99, ms",
            f"{lat['db_p50_ms']:.1f} / {lat['db_p99_ms']:.1f}",
            f"{lat['db_finalized']:,} of {lat['accepted']:,} final",
        ]
    )
    rows += [
        [
            f"closed loop 64 conns, {out['seconds']:.0f} s: accepted msg/s (baseline)",
            fmt(thr["accept_rps"]),
            f"{thr['accepted']:,} accepted, errors {thr['errors']}",
        ],
    ]
    if hooks:
        rows.append(
            [
                "  finalized msg/s, webhooks, sustained (first POST → last webhook)",
                fmt(thr.get("webhook_finalized_rps", 0)),
                f"{thr.get('webhook_finalized', 0):,} webhooks",
            ]
        )
        rows.append(
            [
                "  finalized msg/s, webhooks, during the load window",
                fmt(thr.get("webhook_finalized_rps_during_load", 0)),
                "",
            ]
        )
    rows.append(
        [
            "  server CPU per message, ms (all its work: accept to last webhook)",
            f"{thr['server_cpu_ms_per_message']:.2f}",
            f"{thr['server_cpu_s']:.1f} s of CPU for {thr['db_finalized']:,} messages",
        ]
    )
    rows.append(
        [
            "  finalized msg/s, DB, sustained (first received → last completed)",
            fmt(thr.get("db_finalized_rps", 0)),
            f"{thr['db_finalized']:,} final",
        ]
    )
    return "\n".join(
        [
            table(
                [
                    f"end to end ({_BACKENDS[out.get('backend', 'sqlite')]}, sandbox carrier,"
                    f" {_ROLES[out['role']]})",
                    "value",
                    "note",
                ],
                rows,
            ),
            "",
            f"measured from: {source}",
            f"profile webhook_url: {out.get('profile_webhook')}; webhooks received: "
            f"{out.get('webhook_counts')} (message.finalized beyond finalized_distinct are "
            "repeated deliveries)",
            f"sandbox receipt delay: {out['delivery_delay']} s; load generator: aiohttp, in the "
            f"benchmark process; receiver: aiohttp, own process",
            f"load average: start {out['load_at_start']}, end {out['load_at_end']}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--delivery-delay", type=float, default=0.0)
    parser.add_argument("--probe-timeout", type=float, default=10.0)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--per-host-limit", type=int, default=64, help="webhooks.per_host_limit of the server"
    )
    parser.add_argument(
        "--role",
        choices=sorted(_ROLES),
        default="serve",
        help="serve: one process; split: `switchboard api` + `switchboard worker`",
    )
    parser.add_argument("--backend", choices=sorted(_BACKENDS), default="sqlite")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="server to create the throwaway database on"
    )
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    print(header("End to end: accepted → delivered → message.finalized webhook"), flush=True)
    out = run(
        rate=args.rate,
        seconds=min(args.seconds, 600.0),
        connections=args.connections,
        delivery_delay=args.delivery_delay,
        probe_timeout=args.probe_timeout,
        drain_timeout=min(args.drain_timeout, 900.0),
        per_host_limit=max(1, min(args.per_host_limit, 1000)),
        role=args.role,
        backend=args.backend,
        pg_url=args.pg_url,
    )
    print(report(out))
    dump_json(args.json, out)


if __name__ == "__main__":
    main()
