"""Growth: accept throughput and message lookups with a large store vs an empty one.

For each backend (SQLite; PostgreSQL when reachable, in a throwaway database created and
dropped here):

1. `switchboard migrate`, then `switchboard serve` on the empty store: start-up time, idle
   CPU, `GET /v2/messages/{id}` latency (one keep-alive client, sequential), and closed-loop
   accept (the load of bench/accept.py);
2. stop the server; bulk-insert `--rows` finished messages with their events
   (bench/fill.py: SQLAlchemy Core executemany, not the API);
3. serve again on the full store and measure the same.

The empty-store figures are the same-run baseline of the full-store ones.

    python -m bench.growth --rows 100000 --seconds 10                # quick
    python -m bench.growth --rows 1000000 --seconds 20               # the issue's size
    python -m bench.growth --backends sqlite --rows 1000000
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import time
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_PG,
    JSON_HEADERS,
    PYTHON,
    SEND_BODY,
    Switchboard,
    child_env,
    closed_loop,
    cpu_seconds,
    dump_json,
    fmt,
    header,
    loadavg,
    migrate,
    percentile,
    pg_reachable,
    post_json,
    ratio,
    run_child,
    table,
    throwaway_postgres,
    workdir,
)


def settle(pid: int, timeout: float, quiet: float = 0.05) -> float:
    """Wait until the process uses under `quiet` cores for two 1 s windows in a row (its
    backlog is done); the seconds waited (capped by `timeout`)."""
    began = time.monotonic()
    calm = 0
    while time.monotonic() - began < timeout and calm < 2:
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(1)
        calm = calm + 1 if (cpu_seconds(pid) - c0) / (time.monotonic() - t0) < quiet else 0
    return time.monotonic() - began


def lookups(port: int, ids: list[str], count: int, pid: int) -> dict[str, float]:
    """Sequential GET /v2/messages/{id} on one keep-alive connection; latency in ms, and
    the server's (`pid`'s) CPU per lookup in µs, which moves less with the machine's phase."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": JSON_HEADERS["Authorization"]}
    rng = random.Random(11)
    lat: list[float] = []
    misses = 0
    try:
        for _ in range(3):  # warm the connection and the key cache
            conn.request("GET", f"/v2/messages/{ids[0]}", headers=headers)
            conn.getresponse().read()
        cpu_before = cpu_seconds(pid)
        for _ in range(count):
            message_id = rng.choice(ids)
            t = time.perf_counter()
            conn.request("GET", f"/v2/messages/{message_id}", headers=headers)
            resp = conn.getresponse()
            resp.read()
            lat.append((time.perf_counter() - t) * 1000)
            if resp.status != 200:
                misses += 1
        cpu_us = (cpu_seconds(pid) - cpu_before) / max(1, count) * 1e6
    finally:
        conn.close()
    return {
        "count": len(lat),
        "cpu_us": cpu_us,
        "misses": misses,
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "mean_ms": sum(lat) / len(lat) if lat else 0.0,
    }


def sample_ids(db_url: str, work: Path, count: int) -> list[str]:
    """Random ids of stored messages, read in a child process (the code under test's schema)."""
    code = (
        "import asyncio, json, sys\n"
        "import sqlalchemy as sa\n"
        "from switchboard.store.database import create_engine\n"
        "async def main():\n"
        "    e = create_engine(sys.argv[1])\n"
        "    async with e.connect() as c:\n"
        "        fn = 'random()'\n"
        "        rows = (await c.execute(sa.text(\n"
        "            f'SELECT id FROM messages ORDER BY {fn} LIMIT {int(sys.argv[2])}'))).all()\n"
        "    await e.dispose()\n"
        "    print(json.dumps([r[0] for r in rows]))\n"
        "asyncio.run(main())\n"
    )
    out = run_child(
        [PYTHON, "-c", code, db_url, str(count)], env=child_env(), cwd=work, timeout=600
    )
    if out.returncode != 0:
        raise RuntimeError(f"reading ids failed:\n{out.stderr[-3000:]}")
    return list(json.loads(out.stdout))


def measure(
    db_url: str,
    work: Path,
    seconds: float,
    lookup_count: int,
    ids: list[str] | None,
    role: str = "serve",
) -> dict[str, Any]:
    began = time.monotonic()
    sb = Switchboard(db_url, work, role=role)
    res: dict[str, Any] = {"startup_s": time.monotonic() - began}
    try:
        if ids is None:
            body = json.loads(SEND_BODY)
            ids = [post_json(sb.send_url, body)["data"]["id"] for _ in range(200)]
        res["settle_s"] = settle(sb.proc.pid, 60)
        c0, t0 = cpu_seconds(sb.proc.pid), time.monotonic()
        time.sleep(10)
        res["idle_cpu"] = (cpu_seconds(sb.proc.pid) - c0) / (time.monotonic() - t0)
        res["lookup"] = lookups(sb.port, ids, lookup_count, sb.proc.pid)
        load = closed_loop(sb.send_url, seconds=seconds, work=work)
        res["accept"] = load.as_dict()
        res["accept"]["extra"].pop("wrk_text", None)
        # Let the dispatcher finish the backlog, so the next phase starts without it.
        res["drain_s"] = settle(sb.proc.pid, 300)
    finally:
        sb.stop()
    return res


def fill(db_url: str, work: Path, rows: int, events: int) -> dict[str, Any]:
    out = run_child(
        [PYTHON, "-m", "bench.fill", "--db", db_url, "--rows", str(rows), "--events", str(events)],
        env=child_env(),
        cwd=work,
        timeout=7200,
    )
    if out.returncode != 0:
        raise RuntimeError(f"fill failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_backend(
    db_url: str,
    work: Path,
    *,
    rows: int,
    events: int,
    seconds: float,
    lookup_count: int,
    role: str = "serve",
) -> dict[str, Any]:
    migrate(db_url, work)
    empty = measure(db_url, work, seconds, lookup_count, None, role)
    filled = fill(db_url, work, rows, events)
    ids = sample_ids(db_url, work, 5000)
    full = measure(db_url, work, seconds, lookup_count, ids, role)
    return {"empty": empty, "fill": filled, "full": full}


def run(
    *,
    rows: int,
    events: int = 3,
    seconds: float = 10.0,
    lookup_count: int = 1000,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
    pg_url: str = DEFAULT_PG,
    role: str = "serve",
) -> dict[str, Any]:
    """`role` "api" measures accepting alone; "serve" also delivers on the same process."""
    out: dict[str, Any] = {
        "rows": rows,
        "events": events,
        "role": role,
        "load_at_start": loadavg(),
    }
    for backend in backends:
        with workdir() as work:
            if backend == "sqlite":
                out["sqlite"] = run_backend(
                    f"sqlite:///{work / 'growth.db'}",
                    work,
                    rows=rows,
                    events=events,
                    seconds=seconds,
                    lookup_count=lookup_count,
                    role=role,
                )
                out["sqlite"]["db_bytes"] = sum(p.stat().st_size for p in work.glob("growth.db*"))
                continue
            if not pg_reachable(pg_url):
                out["postgresql"] = {"skipped": f"{pg_url} not reachable"}
                continue
            with throwaway_postgres(pg_url) as pg_db:
                out["postgresql"] = run_backend(
                    pg_db,
                    work,
                    rows=rows,
                    events=events,
                    seconds=seconds,
                    lookup_count=lookup_count,
                    role=role,
                )
    out["load_at_end"] = loadavg()
    return out


def report(out: dict[str, Any]) -> str:
    parts = []
    for backend in ("sqlite", "postgresql"):
        res = out.get(backend)
        if res is None:
            continue
        if "skipped" in res:
            parts.append(f"{backend}: skipped ({res['skipped']})")
            continue
        e, f = res["empty"], res["full"]
        rows = [
            [
                "accept, closed loop 64 conns: msg/s",
                fmt(e["accept"]["rps"]),
                fmt(f["accept"]["rps"]),
                ratio(f["accept"]["rps"], e["accept"]["rps"]),
            ],
            [
                "  accept p50 / p99, ms",
                f"{e['accept']['p50_ms']:.1f} / {e['accept']['p99_ms']:.1f}",
                f"{f['accept']['p50_ms']:.1f} / {f['accept']['p99_ms']:.1f}",
                "",
            ],
            [
                "GET /v2/messages/{id} p50, ms",
                fmt(e["lookup"]["p50_ms"], 2),
                fmt(f["lookup"]["p50_ms"], 2),
                ratio(f["lookup"]["p50_ms"], e["lookup"]["p50_ms"]),
            ],
            [
                "GET /v2/messages/{id} p99, ms",
                fmt(e["lookup"]["p99_ms"], 2),
                fmt(f["lookup"]["p99_ms"], 2),
                ratio(f["lookup"]["p99_ms"], e["lookup"]["p99_ms"]),
            ],
            [
                "  server CPU per lookup, µs",
                fmt(e["lookup"]["cpu_us"], 0),
                fmt(f["lookup"]["cpu_us"], 0),
                ratio(f["lookup"]["cpu_us"], e["lookup"]["cpu_us"]),
            ],
            ["  lookups not found", e["lookup"]["misses"], f["lookup"]["misses"], ""],
            [
                "start-up (serve → /healthz answers), s",
                fmt(e["startup_s"], 2),
                fmt(f["startup_s"], 2),
                "",
            ],
            [
                "dispatcher backlog after the accept run, s",
                fmt(e.get("drain_s"), 1),
                fmt(f.get("drain_s"), 1),
                "",
            ],
            [
                "idle CPU (10 s once quiet, no requests), cores",
                fmt(e["idle_cpu"], 3),
                fmt(f["idle_cpu"], 3),
                "",
            ],
        ]
        size = f"{out['rows']:,} messages + {out['rows'] * out['events']:,} events"
        parts.append(
            table([f"growth, {backend}", "empty store", f"{size} stored", "full / empty"], rows)
        )
        note = f"fill: {res['fill']['rows']:,} messages in {res['fill']['seconds']:.0f} s"
        if "db_bytes" in res:
            note += f"; database file {res['db_bytes'] / 1e6:,.0f} MB"
        parts.append(note + f"; accept load tool: {e['accept']['tool']}\n")
    parts.append(f"load average: start {out['load_at_start']}, end {out['load_at_end']}")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="messages to pre-fill")
    parser.add_argument("--events", type=int, default=3, help="status events per message")
    parser.add_argument("--seconds", type=float, default=10.0, help="accept run length")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="server to create the throwaway database on"
    )
    parser.add_argument("--role", choices=["serve", "api"], default="serve")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    print(header(f"Growth: a full store vs an empty one (switchboard {args.role})"), flush=True)
    out = run(
        rows=min(args.rows, 20_000_000),
        events=max(0, min(args.events, 3)),
        seconds=min(args.seconds, 600.0),
        lookup_count=min(args.lookups, 100_000),
        backends=tuple(b.strip() for b in args.backends.split(",") if b.strip()),
        pg_url=args.pg_url,
        role=args.role,
    )
    print(report(out))
    dump_json(args.json, out)


if __name__ == "__main__":
    main()
