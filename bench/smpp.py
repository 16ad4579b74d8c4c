"""SMPP over one bind: Switchboard end to end beside the SMPP simulator's own ceiling, same run.

The issue asks for ≥ 1,000 msg/s over one bind with receipts on. A figure for Switchboard
alone could not tell whether the SMSC is the limit, so the run measures both against the
node-smpp simulator of the tests (tests/smpp/simulator/simulator.js, receipt delay set to
0 ms), each on a fresh simulator process:

1. ceiling: bench/smpp_ceiling.js, a node-smpp client that is not Switchboard, binds once
   as a transceiver and keeps `--window` submit_sm outstanding until `--ceiling-messages`
   are sent, answering every receipt (deliver_sm) with deliver_sm_resp: submits/s and
   receipts/s from its first submit_sm;
2. Switchboard: `switchboard serve` in gateway mode (SQLite) with one `[[carriers.smpp]]`
   entry (binds = 1, window = `--window`, no throughput limit) and the senders' throughput
   limits lifted; 64 closed-loop clients POST `--messages` messages to `/v2/messages`
   (bench/loadgen.py, in this process) and the run waits until none is in flight. End to
   end msg/s is delivered rows / (last `updated_at` - first `received_at`) of the
   `messages` table, beside the accept rate and accept → delivered p50/p99. (`updated_at`
   of a delivered row is when Switchboard recorded the receipt; `completed_at` is the
   receipt's `done date`, which the simulator writes to the minute, or the receipt's arrival
   when that date is before `sent_at`.) The simulator
   counts the submit_sm it saw: with 1-part texts it must equal the messages stored, so a
   duplicate submission shows. The server's CPU time (every process, from `/proc`) from the
   first POST until nothing is in flight, per delivered message, is printed beside it.

`--role split` runs the operators' layout instead of `serve`: `switchboard api` (accepting)
and `switchboard worker` (the SMPP bind, receipts) as two processes on the one SQLite file,
each free to use a core of its own.

    python -m bench.smpp --messages 20000 --window 64
    python -m bench.smpp --messages 20000 --window 64 --role split
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench import loadgen
from bench.common import (
    BIN,
    FROM_NUMBER,
    ROOT,
    SEND_BODY,
    TO_NUMBER,
    Proc,
    Switchboard,
    cpu_seconds,
    dump_json,
    fmt,
    free_port,
    header,
    loadavg,
    percentile,
    post_json,
    ratio,
    run_child,
    server_env,
    table,
    wait_http,
    wait_log,
    workdir,
)

SIM_DIR = ROOT / "tests" / "smpp" / "simulator"
CEILING_JS = ROOT / "bench" / "smpp_ceiling.js"
SYSTEM_ID = "switchboard"
PASSWORD = "secret"
CARRIER = "simulated-smsc"
TEXT = str(json.loads(SEND_BODY)["text"])  # GSM-7, 69 characters: one part
TARGET = 1000.0  # msg/s over one bind with receipts on (the issue)
PENDING = ("queued", "sending", "sent", "scheduled")


# --------------------------------------------------------------------------- the simulator


def node_problem() -> str | None:
    """Why the simulator cannot run (no node, no npm to install it), or None; installs the
    simulator's npm dependencies (`npm ci`) first when they are missing, as the tests do."""
    if shutil.which("node") is None:
        return "node is not installed: the SMPP simulator (node-smpp) cannot run"
    if (SIM_DIR / "node_modules" / "smpp").is_dir():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed: cannot install the simulator's node-smpp"
    out = run_child([npm, "ci", "--no-audit", "--no-fund"], timeout=300, cwd=SIM_DIR)
    return None if out.returncode == 0 else f"npm ci failed: {out.stderr[-500:]}"


class PipedProc(Proc):
    """A `Proc` whose stdin is a pipe held open: the simulator exits when its stdin ends (so
    it cannot outlive its parent), and would exit at once on an inherited /dev/null."""

    def __init__(self, argv: Sequence[str], *, log_path: Path, cwd: Path | None = None) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
        atexit.register(self.stop)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        return super().stop(timeout)


class Simulator:
    """tests/smpp/simulator/simulator.js on free ports of 127.0.0.1, receipts without delay."""

    def __init__(self, work: Path, label: str) -> None:
        self.smpp_port = free_port()
        self.admin_port = free_port()
        node = shutil.which("node") or "node"
        self.proc = PipedProc(
            [
                node,
                str(SIM_DIR / "simulator.js"),
                *("--port", str(self.smpp_port), "--admin-port", str(self.admin_port)),
                *("--system-id", SYSTEM_ID, "--password", PASSWORD),
            ],
            log_path=work / f"simulator-{label}.log",
            cwd=SIM_DIR,
        )
        wait_http(f"{self.admin}/state", self.proc, timeout=30)
        self.call("/config", {"receipt_delay_ms": 0})

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.admin}{path}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def bound(self) -> bool:
        """A transceiver is bound: Switchboard's bind is up, sending can start."""
        return any(s["role"] == "transceiver" for s in self.call("/state")["sessions"])

    def counts(self, since_ms: float = 0.0) -> dict[str, Any]:
        """What the simulator saw: submit_sm and receipts (all, and from `since_ms` on, wall
        clock), binds, and the most submit_sm a session had unanswered at once."""
        state = self.call("/state")
        events = state["events"]
        kinds = Counter(e["type"] for e in events)
        late = [e for e in events if e["at"] >= since_ms]
        submits = [e["at"] for e in late if e["type"] == "submit_sm"]
        acked = [e["at"] for e in late if e["type"] == "deliver_sm_resp" and e["status"] == 0]
        return {
            "submit_sm": kinds["submit_sm"],
            "deliver_sm": kinds["deliver_sm"],
            "deliver_sm_resp_not_ok": sum(
                1 for e in events if e["type"] == "deliver_sm_resp" and e["status"] != 0
            ),
            "binds": kinds["bind"],
            "closes": kinds["close"],
            "max_inflight": state["max_inflight"],
            "submits_per_s": _rate(submits),
            "receipts_acked_per_s": _rate(acked, start=min(submits, default=None)),
        }

    def stop(self) -> None:
        self.proc.stop()


def _rate(times_ms: list[float], start: float | None = None) -> float:
    """Events per second from `start` (default: the first event) to the last event."""
    if not times_ms:
        return 0.0
    span = (max(times_ms) - (min(times_ms) if start is None else start)) / 1000
    return len(times_ms) / span if span > 0 else 0.0


# --------------------------------------------------------------------------- ceiling


def measure_ceiling(work: Path, messages: int, window: int) -> dict[str, Any]:
    """bench/smpp_ceiling.js against a fresh simulator: what one bind can carry at all."""
    sim = Simulator(work, "ceiling")
    try:
        timeout = 60 + messages / 500
        out = run_child(
            [
                shutil.which("node") or "node",
                str(CEILING_JS),
                *("--port", str(sim.smpp_port), "--messages", str(messages)),
                *("--window", str(window), "--timeout", str(timeout)),
                *("--system-id", SYSTEM_ID, "--password", PASSWORD, "--text", TEXT),
                *("--from", FROM_NUMBER.lstrip("+"), "--to", TO_NUMBER.lstrip("+")),
            ],
            timeout=timeout + 30,
            env={**os.environ, "NODE_PATH": str(SIM_DIR / "node_modules")},
            cwd=ROOT,
        )
        lines = out.stdout.strip().splitlines()
        if not lines:
            raise RuntimeError(f"smpp_ceiling.js failed ({out.returncode}): {out.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        result["exit_code"] = out.returncode
        result["simulator"] = sim.counts()
    finally:
        sim.stop()
    return result


# --------------------------------------------------------------------------- Switchboard

GATEWAY_TOML = """\
mode = "gateway"

[[carriers.smpp]]
name = "{name}"
host = "127.0.0.1"
port = {port}
system_id = "{system_id}"
password = "{password}"
binds = 1
window = {window}
# no `throughput`: the connector's token bucket is unlimited
"""


class Row(NamedTuple):
    """An outbound message as the benchmark reads it (server clock, naive UTC)."""

    id: str
    status: str
    received_at: datetime
    updated_at: datetime  # for a delivered row: when the receipt was applied
    carrier_message_id: str | None
    parts: int

    @property
    def seconds(self) -> float:
        return (self.updated_at - self.received_at).total_seconds()


class Gateway(Switchboard):
    """Switchboard in gateway mode (SQLite) with one SMPP bind to the simulator: `serve`, or
    with `role="split"` an `api` process and a `worker` process (which binds)."""

    def __init__(self, work: Path, sim: Simulator, window: int, role: str = "serve") -> None:
        self.db_path = work / "smpp.db"
        config = work / "gateway.toml"
        config.write_text(
            GATEWAY_TOML.format(
                name=CARRIER,
                port=sim.smpp_port,
                system_id=SYSTEM_ID,
                password=PASSWORD,
                window=window,
            )
        )
        db_url = f"sqlite:///{self.db_path}"
        super().__init__(db_url, work, config=config, role="api" if role == "split" else "serve")
        self.worker: Proc | None = None
        if role == "split":
            self.worker = Proc(
                [str(BIN / "switchboard"), "worker", "--db", db_url, "--config", str(config)],
                log_path=work / "switchboard-worker.log",
                env=server_env(),
                cwd=work,
            )
            wait_log(self.worker, " ready")

    @property
    def procs(self) -> list[Proc]:
        return [self.proc] + ([self.worker] if self.worker is not None else [])

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        super().stop()

    def own_sender(self) -> None:
        """A gateway starts with no numbers: a profile for US destinations and FROM_NUMBER."""
        profile = post_json(
            f"{self.base}/v2/messaging_profiles",
            {"name": "bench-smpp", "whitelisted_destinations": ["US"]},
        )["data"]
        post_json(
            f"{self.base}/v2/number_orders",
            {
                "phone_numbers": [{"phone_number": FROM_NUMBER}],
                "messaging_profile_id": profile["id"],
            },
        )

    def counts(self) -> dict[str, int]:
        with _db(self.db_path) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM messages WHERE direction = 'outbound' GROUP BY status"
            ).fetchall()
        return {status: count for status, count in rows}

    def rows(self) -> list[Row]:
        with _db(self.db_path) as conn:
            rows = conn.execute(
                "SELECT id, status, received_at, updated_at, carrier_message_id, parts "
                "FROM messages WHERE direction = 'outbound'"
            ).fetchall()
        return [Row(r[0], r[1], _ts(r[2]), _ts(r[3]), r[4], r[5]) for r in rows]


@contextlib.contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    """Read-only, beside the running server (WAL): the benchmark never writes its store."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    """Poll `check` until true; False after `timeout` seconds, so every wait is bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def in_flight(gw: Gateway) -> int:
    """Outbound messages not final yet: the run ends when this reaches 0."""
    counts = gw.counts()
    return sum(counts.get(s, 0) for s in PENDING)


async def _send(
    url: str, *, messages: int, connections: int, seconds: float
) -> tuple[loadgen.Tally, float, set[str]]:
    """POST `messages` messages with `connections` closed-loop clients: (tally, elapsed, ids)."""
    ids: set[str] = set()

    def on_ok(_start: float, _done: float, payload: bytes) -> None:
        ids.add(json.loads(payload)["data"]["id"])

    async with loadgen.session(connections) as s:
        tally, elapsed = await loadgen.closed_loop(
            s,
            url,
            SEND_BODY.encode(),
            seconds=seconds,
            connections=connections,
            limit=messages,
            on_ok=on_ok,
        )
    return tally, elapsed, ids


def probe(gw: Gateway, timeout: float = 30.0) -> float:
    """One message alone, before the load (also proves the bind works): accept → delivered
    in ms, from the table."""
    sent = post_json(gw.send_url, json.loads(SEND_BODY))["data"]["id"]
    if not wait_for(lambda: gw.counts().get("delivered", 0) >= 1, timeout):
        raise RuntimeError(
            f"the probe message was not delivered within {timeout:.0f}s: {gw.counts()}\n"
            f"{gw.proc.log_tail()}"
        )
    return next(r for r in gw.rows() if r.id == sent).seconds * 1000


def measure_switchboard(
    work: Path,
    *,
    messages: int,
    window: int,
    connections: int,
    max_seconds: float,
    drain_timeout: float,
    role: str = "serve",
) -> dict[str, Any]:
    """Switchboard in gateway mode over one bind to a fresh simulator."""
    sim = Simulator(work, "gateway")
    gw: Gateway | None = None
    try:
        gw = Gateway(work, sim, window, role)
        if not wait_for(sim.bound, 30):
            logs = "\n".join(p.log_tail() for p in gw.procs)
            raise RuntimeError(f"Switchboard did not bind within 30 s:\n{logs}")
        gw.own_sender()
        out: dict[str, Any] = {"probe_ms": probe(gw), "role": role}
        load_wall_ms = time.time() * 1000
        began = time.monotonic()
        cpu_before = gw.cpu_seconds()
        tally, elapsed, ids = loadgen.run(
            _send(gw.send_url, messages=messages, connections=connections, seconds=max_seconds)
        )
        drained = wait_for(lambda: in_flight(gw) == 0, drain_timeout)
        out["server_cpu_seconds"] = gw.cpu_seconds() - cpu_before
        out["wall_seconds"] = time.monotonic() - began
        out["drained"] = drained
        out["accept"] = _accept_stats(tally, elapsed)
        rows = gw.rows()
        out["simulator"] = sim.counts(since_ms=load_wall_ms)
        out["log_tail"] = "\n".join(p.log_tail(10) for p in gw.procs)
    finally:
        if gw is not None:
            gw.stop()
        sim.stop()
    out.update(_delivery_stats(rows, ids, out["simulator"]))
    return out


def _accept_stats(tally: loadgen.Tally, elapsed: float) -> dict[str, Any]:
    return {
        "accepted": tally.ok,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "seconds": elapsed,
        "rps": tally.ok / elapsed if elapsed else 0.0,
        "p50_ms": percentile(tally.latencies, 50) * 1000,
        "p99_ms": percentile(tally.latencies, 99) * 1000,
    }


def _delivery_stats(
    rows: list[Row],
    ids: set[str],
    sim: dict[str, Any],
) -> dict[str, Any]:
    """Accept → delivered from the table for the load's messages, and the duplicate check:
    every stored outbound part (probe included) against the submit_sm the simulator saw."""
    mine = [r for r in rows if r.id in ids]
    done = [r for r in mine if r.status == "delivered"]
    latency = [r.seconds for r in done]
    span = (
        (max(r.updated_at for r in done) - min(r.received_at for r in done)).total_seconds()
        if done
        else 0.0
    )
    stored_parts = sum(r.parts for r in rows)
    carrier_ids = [r.carrier_message_id for r in rows if r.carrier_message_id]
    return {
        "by_status": dict(Counter(r.status for r in mine)),
        "delivered": len(done),
        "rps": len(done) / span if span > 0 else 0.0,
        "span_seconds": span,
        "p50_ms": percentile(latency, 50) * 1000,
        "p99_ms": percentile(latency, 99) * 1000,
        "stored_messages": len(rows),
        "stored_parts": stored_parts,
        "extra_submits": sim["submit_sm"] - stored_parts,
        "carrier_ids": len(carrier_ids),
        "distinct_carrier_ids": len(set(carrier_ids)),
    }


# --------------------------------------------------------------------------- run and report


def run(
    *,
    messages: int = 20_000,
    window: int = 64,
    ceiling_messages: int | None = None,
    connections: int = 64,
    max_seconds: float = 900.0,
    drain_timeout: float = 300.0,
    role: str = "serve",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "load_at_start": loadavg(),
        "messages": messages,
        "window": window,
        "role": role,
    }
    problem = node_problem()
    if problem:
        out["skipped"] = problem
        return out
    ceiling_n = ceiling_messages or max(messages, 20_000)
    with workdir("switchboard-bench-smpp-") as work:
        out["ceiling"] = measure_ceiling(work, ceiling_n, window)
        out["switchboard"] = measure_switchboard(
            work,
            messages=messages,
            window=window,
            connections=connections,
            max_seconds=max_seconds,
            drain_timeout=drain_timeout,
            role=role,
        )
    out["load_at_end"] = loadavg()
    return out


def report(out: dict[str, Any]) -> str:
    if "skipped" in out:
        return f"SMPP benchmark skipped: {out['skipped']}"
    c, s = out["ceiling"], out["switchboard"]
    a, cs, ss = s["accept"], c["simulator"], s["simulator"]
    rows: list[list[Any]] = [
        ["messages (1 part each)", fmt(c["messages"]), fmt(out["messages"]), ""],
        [
            "end to end msg/s: first submit / accept → last receipt / delivered",
            fmt(c["receipts_per_s"]),
            fmt(s["rps"]),
            ratio(s["rps"], c["receipts_per_s"]),
        ],
        [
            "submit_sm/s (ceiling: acked at the client; Switchboard: seen by the simulator)",
            fmt(c["submits_per_s"]),
            fmt(ss["submits_per_s"]),
            ratio(ss["submits_per_s"], c["submits_per_s"]),
        ],
        ["accept msg/s, POST /v2/messages, 64 clients", "–", fmt(a["rps"]), ""],
        [
            "latency p50 / p99, ms: submit → receipt / accept → delivered",
            f"{fmt(c['receipt_p50_ms'], 1)} / {fmt(c['receipt_p99_ms'], 1)}",
            f"{fmt(s['p50_ms'], 1)} / {fmt(s['p99_ms'], 1)}",
            "",
        ],
        [
            "  POST latency p50 / p99, ms",
            "–",
            f"{fmt(a['p50_ms'], 1)} / {fmt(a['p99_ms'], 1)}",
            "",
        ],
        [
            "submit_sm at the simulator / stored parts",
            f"{fmt(cs['submit_sm'])} / {fmt(c['acked'])} acked",
            f"{fmt(ss['submit_sm'])} / {fmt(s['stored_parts'])} (extra {s['extra_submits']})",
            "",
        ],
        [
            "receipts: answered / delivered",
            fmt(c["receipts"]),
            f"{fmt(s['delivered'])} of {fmt(a['accepted'])} accepted",
            "",
        ],
        ["most submit_sm outstanding at once", cs["max_inflight"], ss["max_inflight"], ""],
        [
            "server CPU per delivered message, ms (every process, first POST → drained)",
            "–",
            fmt(s["server_cpu_seconds"] * 1000 / max(1, s["delivered"]), 2),
            "",
        ],
    ]
    verdict = "met" if s["rps"] >= TARGET else "NOT met"
    return "\n".join(
        [
            table(
                [
                    f"SMPP, one bind, window {out['window']}, receipts at 0 ms",
                    "simulator ceiling (node-smpp client)",
                    f"Switchboard (SQLite, gateway, {out.get('role', 'serve')})",
                    "Switchboard / ceiling",
                ],
                rows,
            ),
            "",
            f"target ≥ {TARGET:,.0f} msg/s over one bind with receipts: {verdict} "
            f"({fmt(s['rps'])} msg/s; ceiling {fmt(c['receipts_per_s'])})",
            _notes(out),
            f"load average: start {out['load_at_start']}, end {out['load_at_end']}",
        ]
    )


def _notes(out: dict[str, Any]) -> str:
    c, s = out["ceiling"], out["switchboard"]
    a, ss = s["accept"], s["simulator"]
    notes = [
        f"one message alone before the load: accept → delivered {fmt(s['probe_ms'], 1)} ms; "
        f"wall clock from the first POST until nothing in flight {fmt(s['wall_seconds'], 1)} s",
        f"Switchboard statuses: {s['by_status']}; POST errors {a['errors']}"
        + (f" (first: {a['first_error']})" if a["first_error"] else "")
        + ("" if s["drained"] else "; NOT drained within the timeout"),
        f"simulator (Switchboard run): binds {ss['binds']}, connections closed {ss['closes']}, "
        f"deliver_sm {fmt(ss['deliver_sm'])}, answered with an error "
        f"{ss['deliver_sm_resp_not_ok']}; carrier ids stored {fmt(s['carrier_ids'])}, "
        f"distinct {fmt(s['distinct_carrier_ids'])}",
        f"ceiling client: exit {c['exit_code']}, refused {c['refused']}, timed out "
        f"{c['timed_out']}, errors {c['errors'] or 'none'}",
        "load generator: aiohttp closed loop (bench/loadgen.py) in the benchmark process; "
        "end to end and latency from the messages table (server clock)",
    ]
    return "\n".join(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="sent through Switchboard")
    parser.add_argument("--window", type=int, default=64, help="submit_sm outstanding per bind")
    parser.add_argument(
        "--ceiling-messages", type=int, help="sent by the ceiling client (default: max(N, 20000))"
    )
    parser.add_argument("--connections", type=int, default=64, help="HTTP clients")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="bound on sending")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--role",
        choices=["serve", "split"],
        default="serve",
        help="serve: one process; split: `switchboard api` + `switchboard worker`",
    )
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--json-dir", help="also write the raw results to DIR/smpp.json")
    args = parser.parse_args()
    print(header("SMPP: Switchboard over one bind vs the simulator's ceiling"), flush=True)
    out = run(
        messages=max(1, min(args.messages, 1_000_000)),
        window=max(1, min(args.window, 1000)),
        ceiling_messages=args.ceiling_messages,
        connections=args.connections,
        max_seconds=min(args.max_seconds, 3600.0),
        drain_timeout=min(args.drain_timeout, 1800.0),
        role=args.role,
    )
    print(report(out))
    dump_json(args.json, out)
    if args.json_dir:
        Path(args.json_dir).mkdir(parents=True, exist_ok=True)
        dump_json(str(Path(args.json_dir) / "smpp.json"), out)


if __name__ == "__main__":
    main()
