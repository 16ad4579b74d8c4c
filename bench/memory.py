"""Memory: peak RSS of `switchboard serve` while it accepts and delivers `--messages` messages.

Samples /proc/PID/status (VmRSS, and VmHWM, the kernel's own high-water mark) every 0.2 s
from start-up until the dispatcher has finished every message, on SQLite. The same-run
baseline is the bare Starlette app (bench/baseline_app.py) after the same number of requests
from the same load tool.

    python -m bench.memory --messages 100000
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from bench.accept import PENDING, sqlite_counts
from bench.common import (
    Baseline,
    Switchboard,
    closed_loop,
    dump_json,
    fmt,
    header,
    loadavg,
    ratio,
    table,
    workdir,
)


def status_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


class Sampler:
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.max_rss = 0
        self.hwm = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._began = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> dict[str, int]:
        s = status_kib(self.pid)
        if s:
            self.max_rss = max(self.max_rss, s.get("VmRSS", 0))
            self.hwm = max(self.hwm, s.get("VmHWM", 0))
            self.samples.append((time.monotonic() - self._began, s.get("VmRSS", 0)))
        return s

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join(5)


def run(
    *, messages: int = 100_000, max_seconds: float = 1800.0, drain_timeout: float = 600.0
) -> dict[str, Any]:
    out: dict[str, Any] = {"messages": messages, "load_at_start": loadavg()}
    with workdir() as work:
        db_path = work / "memory.db"
        sb = Switchboard(f"sqlite:///{db_path}", work)
        try:
            time.sleep(1)
            idle = status_kib(sb.proc.pid)
            sampler = Sampler(sb.proc.pid)
            began = time.monotonic()
            load = closed_loop(sb.send_url, seconds=max_seconds, limit=messages, work=work)
            accepted_s = time.monotonic() - began
            drained = time.monotonic()
            while time.monotonic() - drained < drain_timeout:
                counts = sqlite_counts(db_path)
                if sum(counts.get(s, 0) for s in PENDING) == 0:
                    break
                time.sleep(1)
            drain_s = time.monotonic() - drained
            sampler.stop()
            end = status_kib(sb.proc.pid)
            counts = sqlite_counts(db_path)
        finally:
            sb.stop()
        base = Baseline(work)
        try:
            base_idle = status_kib(base.proc.pid)
            base_load = closed_loop(base.send_url, seconds=max_seconds, limit=messages, work=work)
            base_end = status_kib(base.proc.pid)
        finally:
            base.stop()
    out.update(
        switchboard={
            "idle_kib": idle.get("VmRSS", 0),
            "peak_kib": max(sampler.hwm, end.get("VmHWM", 0)),
            "end_kib": end.get("VmRSS", 0),
            "accepted": load.ok,
            "errors": load.errors,
            "accept_seconds": accepted_s,
            "drain_seconds": drain_s,
            "by_status": counts,
            "tool": load.tool,
            "timeline": sampler.samples[:: max(1, len(sampler.samples) // 200)],
        },
        baseline={
            "idle_kib": base_idle.get("VmRSS", 0),
            "peak_kib": base_end.get("VmHWM", 0),
            "end_kib": base_end.get("VmRSS", 0),
            "requests": base_load.ok,
        },
        load_at_end=loadavg(),
    )
    return out


def report(out: dict[str, Any]) -> str:
    s, b = out["switchboard"], out["baseline"]

    def mb(kib: int) -> str:
        return f"{kib / 1024:,.0f}"

    rows = [
        ["messages accepted (requests answered 2xx)", fmt(s["accepted"]), fmt(b["requests"]), ""],
        [
            "RSS after start, MB",
            mb(s["idle_kib"]),
            mb(b["idle_kib"]),
            ratio(s["idle_kib"], b["idle_kib"]),
        ],
        [
            "peak RSS (VmHWM), MB",
            mb(s["peak_kib"]),
            mb(b["peak_kib"]),
            ratio(s["peak_kib"], b["peak_kib"]),
        ],
        ["RSS at the end, MB", mb(s["end_kib"]), mb(b["end_kib"]), ""],
    ]
    finished = sum(v for k, v in s["by_status"].items() if k not in PENDING)
    return "\n".join(
        [
            table(
                [
                    f"memory, {out['messages']:,} messages",
                    "Switchboard (SQLite)",
                    "bare Starlette",
                    "Switchboard / bare",
                ],
                rows,
            ),
            "",
            f"accepting took {s['accept_seconds']:.0f} s, delivering the rest "
            f"{s['drain_seconds']:.0f} s more; {finished:,} messages finished "
            f"({s['by_status']}); errors {s['errors']}",
            f"load tool: {s['tool']}, 64 connections; RSS sampled every 0.2 s from /proc",
            f"load average: start {out['load_at_start']}, end {out['load_at_end']}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1800.0,
        help="stop sending after this long even if fewer were sent",
    )
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    print(header("Memory: peak RSS of switchboard serve"), flush=True)
    out = run(messages=min(args.messages, 10_000_000), max_seconds=min(args.max_seconds, 7200))
    print(report(out))
    dump_json(args.json, out)


if __name__ == "__main__":
    main()
