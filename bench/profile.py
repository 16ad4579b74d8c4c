"""Where the accept path spends its time: py-spy samples `switchboard serve` under load.

Starts a server on a temporary SQLite file, drives it with the closed-loop load of
bench/accept.py, and records it with py-spy (install it into the venv with
`pip install py-spy`; it needs ptrace, which root has). Prints the top frames by own time
and by inclusive time, per thread, and keeps a flame graph if `--svg` is given.

    python -m bench.profile --seconds 20 --svg /tmp/accept.svg
    python -m bench.profile --seconds 20 --idle      # also count time threads spend waiting
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import BIN, Switchboard, closed_loop, dump_json, header, loadavg, table, workdir

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME_LINE = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    candidate = BIN / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def _frame(name: str) -> str:
    # "send_message (switchboard/services/messages.py:93)" → without the line number
    name = _FRAME_LINE.sub(")", name)
    return name.replace(str(Path.cwd()) + "/", "")


# With --native (or --idle) py-spy also samples threads that wait; these frames say on what.
WAITS = (
    ("SQLite busy handler: sleeping for the write lock", "sqlite3InvokeBusyHandler"),
    ("fsync of the WAL (commit)", "fdatasync"),
    ("aiosqlite worker idle (waiting for work)", "SimpleQueue_get"),
    ("event loop idle (epoll)", "epoll_pwait"),
    ("thread waiting on a condition", "pthread_cond_timedwait"),
)


def wait_kind(frames: list[str]) -> str:
    for label, marker in WAITS:
        if any(marker in f for f in frames):
            return label
    return "running"


def summarize(raw: str, top: int = 25) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        count = int(m["count"])
        frames = [_frame(f) for f in m["stack"].split(";") if f]
        if not frames:
            continue
        total += count
        kind = wait_kind(frames)
        kinds[kind] += count
        if kind != "running":
            continue  # own/inclusive tables show running code only
        threads[frames[0]] += count
        own[frames[-1]] += count
        for f in set(frames):
            inclusive[f] += count
    return {
        "kinds": kinds.most_common(),
        "samples": total,
        "threads": threads.most_common(),
        "own": own.most_common(top),
        "inclusive": inclusive.most_common(top * 2),
    }


def run(
    *,
    seconds: float,
    rate: int = 250,
    idle: bool = False,
    native: bool = False,
    connections: int = 64,
    svg: str | None = None,
    role: str = "serve",
) -> dict[str, Any]:
    spy = py_spy()
    if spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    with workdir() as work:
        sb = Switchboard(f"sqlite:///{work / 'profile.db'}", work, role=role)
        raw_path = work / "profile.txt"
        try:
            argv = [
                spy,
                "record",
                "--pid",
                str(sb.proc.pid),
                "--threads",
                "--rate",
                str(rate),
                "--duration",
                str(int(seconds)),
            ]
            if idle:
                argv.append("--idle")
            # Native frames need the process paused at each sample; Python-only does not.
            argv.append("--native" if native else "--nonblocking")
            recorder = subprocess.Popen(
                [*argv, "--format", "raw", "-o", str(raw_path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            svg_recorder = None
            if svg:
                svg_recorder = subprocess.Popen(
                    [*argv, "-o", svg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            load: dict[str, Any] = {}

            def drive() -> None:
                load["result"] = closed_loop(
                    sb.send_url, seconds=seconds + 1, connections=connections, work=work
                )

            driver = threading.Thread(target=drive)
            driver.start()
            _, err = recorder.communicate(timeout=seconds + 120)
            if svg_recorder:
                svg_recorder.wait(timeout=seconds + 120)
            driver.join(timeout=seconds + 120)
            if not raw_path.exists():
                raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')}")
            summary = summarize(raw_path.read_text())
        finally:
            sb.stop()
    result = load.get("result")
    summary["load"] = result.as_dict() if result is not None else None
    if summary["load"]:
        summary["load"]["extra"].pop("wrk_text", None)
    summary["load_at_end"] = loadavg()
    return summary


def report(summary: dict[str, Any]) -> str:
    total = summary["samples"] or 1
    running = dict(summary["kinds"]).get("running", 0) or 1
    out = []
    if summary["load"]:
        ld = summary["load"]
        out.append(
            f"load during the profile: {ld['rps']:,.0f} msg/s, p99 {ld['p99_ms']:.1f} ms "
            f"({ld['tool']}); load average at end {summary['load_at_end']}\n"
        )
    out.append(
        table(
            ["what the sampled threads were doing", "share of all samples"],
            [[k, f"{n / total:.1%}"] for k, n in summary["kinds"]],
        )
    )
    out.append("")
    out.append(
        table(
            ["thread (running samples)", "samples", "share"],
            [[t, n, f"{n / running:.0%}"] for t, n in summary["threads"]],
        )
    )
    out.append("")
    out.append(
        table(
            ["own time (leaf frame)", "share of running"],
            [[f, f"{n / running:.1%}"] for f, n in summary["own"]],
        )
    )
    out.append("")
    out.append(
        table(
            ["inclusive time (frame on the stack)", "share of running"],
            [[f, f"{n / running:.1%}"] for f, n in summary["inclusive"]],
        )
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--idle", action="store_true", help="include waiting threads")
    parser.add_argument("--native", action="store_true", help="include C frames")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--svg", help="also write a flame graph here")
    parser.add_argument("--json", help="also write the summary here")
    parser.add_argument("--role", choices=["serve", "api"], default="serve")
    args = parser.parse_args()
    print(header(f"Profile: switchboard {args.role} under closed-loop accept load"), flush=True)
    summary = run(
        seconds=min(args.seconds, 300.0),
        rate=args.rate,
        idle=args.idle,
        native=args.native,
        connections=args.connections,
        svg=args.svg,
        role=args.role,
    )
    print(report(summary))
    dump_json(args.json, summary)


if __name__ == "__main__":
    main()
