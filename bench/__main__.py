"""`python -m bench`: a quick pass over every benchmark, each figure beside its same-run baseline,
then the issue's targets and where we stand.

    python -m bench                       # quick sizes, about 6-10 minutes on 2 cores
    python -m bench --full                # the issue's sizes (1M stored, 100k messages), ~1 h+
    python -m bench --only accept,memory  # a subset
    python -m bench --json-dir /tmp/bench # also keep the raw results

Set BENCH_SWITCHBOARD_SRC=DIR to benchmark a copy of the code instead of the working tree.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench import accept, end_to_end, growth, memory, smpp
from bench.common import dump_json, fmt, header, loadavg, table

ALL = ("accept", "e2e", "growth", "memory", "smpp")

QUICK: dict[str, dict[str, Any]] = {
    # The accept targets are about the API's accept path: `switchboard api`, no workers.
    "accept": {"seconds": 10.0, "rate": 1000.0, "rate_seconds": 10.0, "repeat": 1, "role": "api"},
    "e2e": {"rate": 200.0, "seconds": 10.0},
    "growth": {"rows": 100_000, "seconds": 10.0, "lookup_count": 500, "role": "api"},
    "memory": {"messages": 10_000, "max_seconds": 600.0},
    "smpp": {"messages": 3_000, "max_seconds": 300.0, "drain_timeout": 120.0},
}
FULL: dict[str, dict[str, Any]] = {
    "accept": {"seconds": 20.0, "rate": 1000.0, "rate_seconds": 20.0, "repeat": 3, "role": "api"},
    "e2e": {"rate": 200.0, "seconds": 20.0},
    "growth": {"rows": 1_000_000, "seconds": 20.0, "lookup_count": 2000, "role": "api"},
    "memory": {"messages": 100_000, "max_seconds": 3600.0},
    "smpp": {"messages": 20_000, "max_seconds": 1800.0, "drain_timeout": 600.0},
}


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "NOT met")


def targets(results: dict[str, Any]) -> str:
    rows: list[list[str]] = []
    if "accept" in results:
        s = results["accept"]["summary"]
        bare, sb = s["closed_rps"]
        rows.append(
            [
                "accept on SQLite ≥ 2,500 msg/s",
                f"{fmt(sb)} msg/s",
                f"bare Starlette {fmt(bare)}",
                verdict(sb >= 2500),
            ]
        )
        rows.append(
            [
                "accept ≥ 35% of bare Starlette",
                f"{sb / bare:.1%}" if bare else "–",
                "same run",
                verdict(bare > 0 and sb / bare >= 0.35),
            ]
        )
        if "fixed_p99" in s:
            p99 = s["fixed_p99"][1]
            achieved = s["fixed_rps"][1]
            rows.append(
                [
                    f"p99 < 50 ms at {s['fixed_rate']:,.0f} msg/s",
                    f"p99 {fmt(p99, 1)} ms, {fmt(achieved)} msg/s achieved",
                    f"bare p99 {fmt(s['fixed_p99'][0], 1)} ms",
                    verdict(p99 < 50 and s["fixed_errors"][1] == 0),
                ]
            )
    if "e2e" in results:
        e = results["e2e"]
        thr, lat = e["throughput"], e["latency"]
        if e["webhooks"]:
            fin = thr.get("webhook_finalized_rps", 0.0)
            rows.append(
                [
                    "end to end ≥ 800 msg/s finalized, with webhooks",
                    f"{fmt(fin)} msg/s",
                    f"accepted {fmt(thr['accept_rps'])} msg/s",
                    verdict(fin >= 800),
                ]
            )
            p50 = lat.get("webhook_p50_ms", 0.0)
            rows.append(
                [
                    f"accept → webhook p50 < 100 ms at {e['rate']:,.0f} msg/s",
                    f"p50 {fmt(p50, 1)} ms, p99 {fmt(lat.get('webhook_p99_ms'), 1)} ms",
                    f"POST alone p50 {fmt(lat['accept_p50_ms'], 1)} ms",
                    verdict(p50 < 100),
                ]
            )
        else:
            rows.append(
                [
                    "end to end ≥ 800 msg/s finalized, with webhooks",
                    f"no webhooks; {fmt(thr.get('db_finalized_rps', 0))} msg/s delivered (DB)",
                    f"accepted {fmt(thr['accept_rps'])} msg/s",
                    verdict(None if thr.get("db_finalized_rps", 0) >= 800 else False),
                ]
            )
            rows.append(
                [
                    f"accept → webhook p50 < 100 ms at {e['rate']:,.0f} msg/s",
                    f"no webhooks; accept → delivered p50 {fmt(lat['db_p50_ms'], 1)} ms (DB)",
                    f"POST alone p50 {fmt(lat['accept_p50_ms'], 1)} ms",
                    verdict(None if lat["db_p50_ms"] < 100 else False),
                ]
            )
    if "growth" in results:
        g = results["growth"]
        for backend in ("sqlite", "postgresql"):
            res = g.get(backend)
            if not res or "skipped" in res:
                continue
            e_rps, f_rps = res["empty"]["accept"]["rps"], res["full"]["accept"]["rps"]
            rows.append(
                [
                    f"{backend}: accept with {g['rows']:,} stored ≥ 80% of empty",
                    f"{f_rps / e_rps:.0%}" if e_rps else "–",
                    f"empty {fmt(e_rps)}, full {fmt(f_rps)} msg/s",
                    verdict(e_rps > 0 and f_rps / e_rps >= 0.8),
                ]
            )
            lk = res["full"]["lookup"]
            rows.append(
                [
                    f"{backend}: lookup (p99) with {g['rows']:,} stored < 5 ms",
                    f"p50 {fmt(lk['p50_ms'], 2)} ms, p99 {fmt(lk['p99_ms'], 2)} ms",
                    f"empty p50 {fmt(res['empty']['lookup']['p50_ms'], 2)} ms",
                    verdict(lk["p99_ms"] < 5),
                ]
            )
    if "memory" in results:
        m = results["memory"]
        peak = m["switchboard"]["peak_kib"] / 1024
        rows.append(
            [
                f"< 250 MB RSS for 100k messages (ran {m['messages']:,})",
                f"peak {peak:,.0f} MB",
                f"bare Starlette {m['baseline']['peak_kib'] / 1024:,.0f} MB",
                verdict(peak < 250),
            ]
        )
    if "smpp" in results and "skipped" not in results["smpp"]:
        sm = results["smpp"]
        rps = sm["switchboard"]["rps"]
        rows.append(
            [
                f"SMPP ≥ {smpp.TARGET:,.0f} msg/s over one bind, receipts on",
                f"{fmt(rps)} msg/s accept → delivered ({sm['messages']:,} messages)",
                f"simulator ceiling {fmt(sm['ceiling']['receipts_per_s'])} msg/s",
                verdict(rps >= smpp.TARGET),
            ]
        )
    return table(["target (issue)", "measured", "baseline, same run", "status"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (long)")
    parser.add_argument("--only", default=",".join(ALL), help=f"subset of {','.join(ALL)}")
    parser.add_argument("--json-dir", help="write each benchmark's raw results here")
    args = parser.parse_args()
    plan = FULL if args.full else QUICK
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    json_dir = Path(args.json_dir) if args.json_dir else None
    if json_dir:
        json_dir.mkdir(parents=True, exist_ok=True)

    print(header("Switchboard benchmarks" + (" (full)" if args.full else " (quick)")), flush=True)
    began = time.monotonic()
    results: dict[str, Any] = {}
    for name in ALL:
        if name not in only:
            continue
        t0 = time.monotonic()
        opts = plan[name]
        if name == "accept":
            results[name] = accept.run(**opts)
            text = accept.report(results[name], opts["seconds"])
        elif name == "e2e":
            results[name] = end_to_end.run(**opts)
            text = end_to_end.report(results[name])
        elif name == "growth":
            results[name] = growth.run(**opts)
            text = growth.report(results[name])
        elif name == "memory":
            results[name] = memory.run(**opts)
            text = memory.report(results[name])
        else:
            results[name] = smpp.run(**opts)
            text = smpp.report(results[name])
        print(f"\n### {name} ({time.monotonic() - t0:.0f} s)\n\n{text}", flush=True)
        if json_dir:
            dump_json(str(json_dir / f"{name}.json"), results[name])

    print(f"\n### targets\n\n{targets(results)}")
    print(f"\ntotal {time.monotonic() - began:.0f} s; load average at end {loadavg()}")


if __name__ == "__main__":
    main()
