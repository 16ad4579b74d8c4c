"""Where a message's time goes end to end: each step's time from its POST, at a fixed rate.

Runs `switchboard serve` with the sandbox and a local webhook receiver as bench/end_to_end.py
does, sends at `--rate` for `--seconds`, then reads each message's own rows: `received_at`,
its status events (`sending`, `sent`, `delivered`), its webhook deliveries (queued, first
POST started, finished, recorded) and the receiver's arrival times. Prints the p50 and p90
of every step, counted from the start of the message's POST, and the server's CPU during
the load: at a rate well under its capacity, CPU per message shows the pipeline's fixed
costs (per transaction, per statement, per wake-up), which batches hide under a closed loop.

    python -m bench.stages --rate 200 --seconds 8
    python -m bench.stages --rate 50 --seconds 8 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import urllib.request
from datetime import datetime
from typing import Any

from bench import loadgen
from bench.common import (
    Switchboard,
    cpu_seconds,
    dump_json,
    header,
    loadavg,
    percentile,
    table,
    workdir,
)
from bench.end_to_end import Receiver, _send_phase, point_profile_at


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def run(*, rate: float, seconds: float) -> dict[str, Any]:
    """One server, one phase at `rate`; each step's offsets (ms) and the server's CPU."""
    wall_minus_monotonic = time.time() - time.monotonic()
    with workdir() as work:
        env = {
            "SWITCHBOARD_SANDBOX__DELIVERY_DELAY": "0",
            "SWITCHBOARD_WEBHOOKS__PER_HOST_LIMIT": "64",
        }
        receiver = Receiver(work)
        db_path = work / "stages.db"
        sb = Switchboard(f"sqlite:///{db_path}", work, env=env)
        try:
            point_profile_at(sb, receiver.hook_url)
            time.sleep(1.0)  # past start-up
            cpu_before, began = cpu_seconds(sb.proc.pid), time.monotonic()
            tally, _elapsed, _began, started = loadgen.run(
                _send_phase(sb.send_url, rate=rate, seconds=seconds, connections=64)
            )
            cpu = cpu_seconds(sb.proc.pid) - cpu_before
            busy = cpu / (time.monotonic() - began)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if receiver.stats().get("finalized_distinct", 0) >= len(started):
                    break
                time.sleep(0.25)
            with urllib.request.urlopen(f"{receiver.base}/dump", timeout=60) as resp:
                arrivals: dict[tuple[str, str], float] = {}
                for arrived, event_type, message_id, _status in json.loads(resp.read()):
                    arrivals.setdefault((message_id, event_type), arrived)
            steps = _steps(db_path, started, arrivals, wall_minus_monotonic)
        finally:
            sb.stop()
            receiver.stop()
    return {
        "rate": rate,
        "seconds": seconds,
        "messages": tally.ok,
        "errors": tally.errors,
        "server_cores_busy": busy,
        "server_cpu_ms_per_message": cpu * 1000 / tally.ok if tally.ok else 0.0,
        "steps": steps,
    }


def _steps(
    db_path: Any,
    started: dict[str, float],
    arrivals: dict[tuple[str, str], float],
    offset: float,
) -> dict[str, list[float]]:
    steps: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        steps.setdefault(name, []).append(value * 1000)

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        for message_id, posted in started.items():
            at = posted + offset  # the POST's start on the wall clock the rows use
            row = conn.execute("SELECT received_at FROM messages WHERE id = ?", (message_id,))
            add("accepted (received_at)", _epoch(row.fetchone()[0]) - at)
            events = conn.execute(
                "SELECT status, occurred_at FROM message_events WHERE message_id = ?",
                (message_id,),
            )
            for status, occurred in events:
                add(f"status {status}", _epoch(occurred) - at)
            deliveries = conn.execute(
                "SELECT event_type, created_at, started_at, finished_at, updated_at "
                "FROM webhook_deliveries WHERE message_id = ?",
                (message_id,),
            )
            for event_type, created, first, finished, updated in deliveries:
                add(f"{event_type} queued", _epoch(created) - at)
                if first:
                    add(f"{event_type} POST started", _epoch(first) - at)
                if finished:
                    add(f"{event_type} POST answered", _epoch(finished) - at)
                add(f"{event_type} recorded", _epoch(updated) - at)
            for event_type in ("message.sent", "message.finalized"):
                if (message_id, event_type) in arrivals:
                    add(
                        f"{event_type} at the receiver", arrivals[(message_id, event_type)] - posted
                    )
    finally:
        conn.close()
    return steps


def report(result: dict[str, Any]) -> str:
    rows = [
        [name, f"{percentile(values, 50):.1f}", f"{percentile(values, 90):.1f}", len(values)]
        for name, values in sorted(result["steps"].items(), key=lambda kv: percentile(kv[1], 50))
    ]
    return (
        table(["step, ms after the POST started", "p50", "p90", "messages"], rows)
        + f"\n\nfixed rate {result['rate']:,.0f}/s for {result['seconds']:.0f} s: "
        f"{result['messages']:,} accepted, {result['errors']} errors; server CPU during the "
        f"load {result['server_cores_busy']:.0%} of a core, "
        f"{result['server_cpu_ms_per_message']:.2f} ms per message"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=1, help="fresh servers, one after another")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    print(header("Stages: where a message's time goes, at a fixed rate"), flush=True)
    results = []
    for _ in range(max(1, min(args.repeat, 10))):
        result = run(rate=max(1.0, min(args.rate, 2000.0)), seconds=min(args.seconds, 120.0))
        print(report(result), flush=True)
        results.append(result)
    print(f"load average at end: {loadavg()}")
    dump_json(args.json, {"runs": results})


if __name__ == "__main__":
    main()
