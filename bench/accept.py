"""Accept throughput: durable `POST /v2/messages` against a bare Starlette app, same run.

Switchboard answers 200 only after the message row and its `queued` event are committed
(SQLite, WAL, synchronous=FULL), and its dispatcher and sandbox carrier keep working in the
same process while the load runs, as they do for a user. The baseline is bench/baseline_app.py
under the same uvicorn settings, hit by the same load tool with the same request.

Two measurements per server:

* closed loop: 64 keep-alive connections for `--seconds` (wrk if installed, else the aiohttp
  generator in its own process): messages/s, p50, p99;
* fixed rate: the aiohttp open-loop generator at `--rate` per second (default 1,000) for
  `--rate-seconds`: achieved rate, p50, p99 counted from each request's scheduled start.

    python -m bench.accept --seconds 20 --rate 1000 --rate-seconds 20 --repeat 3
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Baseline,
    LoadResult,
    Switchboard,
    closed_loop,
    cpu_seconds,
    dump_json,
    fmt,
    header,
    loadavg,
    ratio,
    run_loadgen,
    table,
    workdir,
)

PENDING = ("queued", "sending", "sent")


def sqlite_counts(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall()
    finally:
        conn.close()
    return {status: count for status, count in rows}


def wait_drained(db_path: Path, timeout: float = 120.0) -> float:
    """Wait until the dispatcher has nothing left in flight; the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        counts = sqlite_counts(db_path)
        if sum(counts.get(s, 0) for s in PENDING) == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - began


def _per_request(cpu: float, res: LoadResult) -> float:
    """Microseconds of server CPU per request answered (0 when none was)."""
    return cpu / res.ok * 1e6 if res.ok else 0.0


def _median(results: list[LoadResult], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in results)


def run(
    *,
    seconds: float = 20.0,
    rate: float = 1000.0,
    rate_seconds: float = 10.0,
    connections: int = 64,
    repeat: int = 1,
    tool: str = "auto",
    role: str = "serve",
) -> dict[str, Any]:
    """`role` "api" measures accepting alone; "serve" also delivers on the same process."""
    out: dict[str, Any] = {"load_at_start": loadavg(), "role": role}
    drain = wait_drained if role == "serve" else (lambda _path: 0.0)
    with workdir() as work:
        db_path = work / "accept.db"
        base = Baseline(work)
        sb = Switchboard(f"sqlite:///{db_path}", work, role=role)
        closed: dict[str, list[LoadResult]] = {"baseline": [], "switchboard": []}
        fixed: dict[str, list[LoadResult]] = {"baseline": [], "switchboard": []}
        # Server CPU (user + system, all threads) per request answered in the closed loop:
        # steadier than the rates when the machine's speed drifts.
        cpu_us: dict[str, list[float]] = {"baseline": [], "switchboard": []}
        accepted = 0
        try:
            for _ in range(repeat):
                before = cpu_seconds(base.proc.pid)
                res = closed_loop(
                    base.send_url, seconds=seconds, connections=connections, work=work, tool=tool
                )
                cpu_us["baseline"].append(_per_request(cpu_seconds(base.proc.pid) - before, res))
                closed["baseline"].append(res)
                before = cpu_seconds(sb.proc.pid)
                res = closed_loop(
                    sb.send_url, seconds=seconds, connections=connections, work=work, tool=tool
                )
                cpu_us["switchboard"].append(_per_request(cpu_seconds(sb.proc.pid) - before, res))
                closed["switchboard"].append(res)
                accepted += res.ok
                drain(db_path)
                if rate > 0:
                    fixed["baseline"].append(
                        run_loadgen(base.send_url, seconds=rate_seconds, rate=rate, connections=256)
                    )
                    res = run_loadgen(sb.send_url, seconds=rate_seconds, rate=rate, connections=256)
                    fixed["switchboard"].append(res)
                    accepted += res.ok
                    drain(db_path)
            counts = sqlite_counts(db_path)
        finally:
            sb.stop()
            base.stop()
    stored = sum(counts.values())
    out.update(
        closed={k: [r.as_dict() for r in v] for k, v in closed.items()},
        fixed={k: [r.as_dict() for r in v] for k, v in fixed.items()},
        durable_check={"accepted_2xx": accepted, "rows_stored": stored, "by_status": counts},
        load_at_end=loadavg(),
        repeat=repeat,
    )
    for run_list in out["closed"].values():
        for r in run_list:
            r["extra"].pop("wrk_text", None)
    b, s = closed["baseline"], closed["switchboard"]
    out["summary"] = {
        "tool": b[0].tool,
        "closed_rps": (_median(b, "rps"), _median(s, "rps")),
        "closed_p50": (_median(b, "p50_ms"), _median(s, "p50_ms")),
        "closed_p99": (_median(b, "p99_ms"), _median(s, "p99_ms")),
        "closed_errors": (sum(r.errors for r in b), sum(r.errors for r in s)),
        "closed_cpu_us": (
            statistics.median(cpu_us["baseline"]),
            statistics.median(cpu_us["switchboard"]),
        ),
        # Each round's Switchboard / bare: the spread says how far one run can be trusted.
        "round_ratios": [sr.rps / br.rps if br.rps else 0.0 for br, sr in zip(b, s, strict=True)],
    }
    if rate > 0:
        fb, fs = fixed["baseline"], fixed["switchboard"]
        out["summary"].update(
            fixed_tool=fb[0].tool,
            fixed_rate=rate,
            fixed_rps=(_median(fb, "rps"), _median(fs, "rps")),
            fixed_p50=(_median(fb, "p50_ms"), _median(fs, "p50_ms")),
            fixed_p99=(_median(fb, "p99_ms"), _median(fs, "p99_ms")),
            fixed_errors=(sum(r.errors for r in fb), sum(r.errors for r in fs)),
        )
    return out


def report(out: dict[str, Any], seconds: float, connections: int = 64) -> str:
    s = out["summary"]
    n = out["repeat"]
    med = f" (median of {n})" if n > 1 else ""
    rows: list[list[Any]] = [
        [
            f"closed loop, {connections} conns, {seconds:.0f} s: msg/s{med}",
            fmt(s["closed_rps"][0]),
            fmt(s["closed_rps"][1]),
            ratio(*reversed(s["closed_rps"])),
        ],
        [
            "  p50 latency, ms",
            fmt(s["closed_p50"][0], 2),
            fmt(s["closed_p50"][1], 2),
            ratio(s["closed_p50"][1], s["closed_p50"][0]),
        ],
        [
            "  p99 latency, ms",
            fmt(s["closed_p99"][0], 2),
            fmt(s["closed_p99"][1], 2),
            ratio(s["closed_p99"][1], s["closed_p99"][0]),
        ],
        ["  errors", s["closed_errors"][0], s["closed_errors"][1], ""],
        [
            "  server CPU per request, µs",
            fmt(s["closed_cpu_us"][0], 1),
            fmt(s["closed_cpu_us"][1], 1),
            ratio(s["closed_cpu_us"][1], s["closed_cpu_us"][0]),
        ],
    ]
    if "fixed_rate" in s:
        rows += [
            [
                f"fixed rate {s['fixed_rate']:,.0f}/s: achieved msg/s",
                fmt(s["fixed_rps"][0]),
                fmt(s["fixed_rps"][1]),
                ratio(*reversed(s["fixed_rps"])),
            ],
            [
                "  p50 latency, ms",
                fmt(s["fixed_p50"][0], 2),
                fmt(s["fixed_p50"][1], 2),
                ratio(s["fixed_p50"][1], s["fixed_p50"][0]),
            ],
            [
                "  p99 latency, ms",
                fmt(s["fixed_p99"][0], 2),
                fmt(s["fixed_p99"][1], 2),
                ratio(s["fixed_p99"][1], s["fixed_p99"][0]),
            ],
            ["  errors", s["fixed_errors"][0], s["fixed_errors"][1], ""],
        ]
    d = out["durable_check"]
    lines = [
        table(
            [
                "accept: POST /v2/messages",
                "bare Starlette",
                f"switchboard {out['role']} (SQLite)",
                "Switchboard / bare",
            ],
            rows,
        ),
        "",
        f"closed-loop load tool: {s['tool']}",
    ]
    if "fixed_tool" in s:
        lines.append(f"fixed-rate load tool: {s['fixed_tool']} (latency from scheduled start)")
    if len(s["round_ratios"]) > 1:
        spread = ", ".join(f"{r:.0%}" for r in s["round_ratios"])
        lines.append(f"closed loop, Switchboard / bare in each round (bare first): {spread}")
    lines += [
        f"durability check: {d['accepted_2xx']:,} answered 2xx, {d['rows_stored']:,} rows stored "
        f"({'ok' if d['rows_stored'] >= d['accepted_2xx'] else 'MISSING ROWS'})",
        f"load average: start {out['load_at_start']}, end {out['load_at_end']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="closed-loop run length")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0, help="fixed rate; 0 skips it")
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per server; medians shown")
    parser.add_argument("--tool", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument(
        "--role",
        choices=["serve", "api"],
        default="serve",
        help="serve: accept and deliver in one process; api: accept only (no workers)",
    )
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600.0)
    args.rate_seconds = min(args.rate_seconds, 600.0)
    print(header("Accept: durable POST /v2/messages vs bare Starlette"), flush=True)
    out = run(
        seconds=args.seconds,
        rate=args.rate,
        rate_seconds=args.rate_seconds,
        connections=args.connections,
        repeat=max(1, min(args.repeat, 9)),
        tool=args.tool,
        role=args.role,
    )
    print(report(out, args.seconds, args.connections))
    dump_json(args.json, out)


if __name__ == "__main__":
    main()
