"""Query plans: every distinct SQL statement `switchboard serve` runs on SQLite, with its plan.

Runs the server with a trace on each SQLite connection (the application code is not
changed: `sqlite3.connect` is wrapped before the server starts), sends some messages, reads
them back, waits for a maintenance pass, then asks SQLite for the plan of each distinct
statement (`EXPLAIN QUERY PLAN`) and flags full table scans: the statements whose cost grows
with the store.

    python -m bench.plans                    # on an empty store
    python -m bench.plans --rows 100000      # pre-filled first (bench/fill.py), plans then
                                             # reflect a store of that size
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from collections import Counter
from typing import Any

from bench.common import (
    PYTHON,
    SEND_BODY,
    Proc,
    dump_json,
    free_port,
    get_json,
    header,
    post_json,
    server_env,
    table,
    wait_http,
    workdir,
)
from bench.growth import fill, migrate

TRACED_SERVE = """
import sqlite3, sys, threading
_lock = threading.Lock()
_out = open(sys.argv[1], "a", buffering=1)
_connect = sqlite3.connect
def _trace(sql):
    with _lock:
        _out.write(" ".join(sql.split()) + "\\n")
def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(_trace)
    return conn
sqlite3.connect = connect
from switchboard.cli import main
raise SystemExit(main(sys.argv[2:]))
"""

_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_SKIP = ("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_FULL_SCAN = re.compile(r"\bSCAN (\w+)\b(?! USING)")
_ALIAS = re.compile(r"\b(\w+) AS (\w+)")


def shape(sql: str) -> str:
    return _LITERAL.sub("?", sql)


def run(*, rows: int = 0, messages: int = 200, events: int = 3) -> dict[str, Any]:
    with workdir() as work:
        db = work / "plans.db"
        url = f"sqlite:///{db}"
        trace = work / "trace.sql"
        migrate(url, work)
        port = free_port()
        argv = [PYTHON, "-c", TRACED_SERVE, str(trace), "serve", "--port", str(port), "--db", url]
        if rows:
            first = Proc(argv, log_path=work / "first.log", env=server_env(), cwd=work)
            wait_http(f"http://127.0.0.1:{port}/healthz", first)
            first.stop()
            fill(url, work, rows, events)
            trace.unlink(missing_ok=True)
        proc = Proc(argv, log_path=work / "serve.log", env=server_env(), cwd=work)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", proc)
            body = json.loads(SEND_BODY)
            ids = [post_json(f"{base}/v2/messages", body)["data"]["id"] for _ in range(messages)]
            for message_id in ids[:20]:
                get_json(f"{base}/v2/messages/{message_id}")
            time.sleep(7)  # a maintenance pass runs every 5 s
        finally:
            proc.stop()
        statements = [ln for ln in trace.read_text().splitlines() if ln.strip()]
        counts: Counter[str] = Counter()
        example: dict[str, str] = {}
        for sql in statements:
            if sql.upper().startswith(_SKIP):
                continue
            key = shape(sql)
            counts[key] += 1
            example.setdefault(key, sql)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        out: list[dict[str, Any]] = []
        sizes: dict[str, int] = {}
        try:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                sizes[name] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for key, n in counts.most_common():
                try:
                    plan = [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {example[key]}")]
                except sqlite3.Error as exc:
                    plan = [f"(no plan: {exc})"]
                aliases = {alias: name for name, alias in _ALIAS.findall(example[key])}
                scans = sorted({aliases.get(m, m) for p in plan for m in _FULL_SCAN.findall(p)})
                out.append({"sql": key, "count": n, "plan": plan, "full_scans": scans})
        finally:
            conn.close()
    return {"rows": rows, "messages": messages, "statements": out, "table_rows": sizes}


def report(result: dict[str, Any], width: int = 110) -> str:
    sizes: dict[str, int] = result.get("table_rows", {})
    rows = []
    for st in result["statements"]:
        sql = st["sql"]
        sql = sql if len(sql) <= width else sql[: width - 1] + "…"
        rows.append(
            [
                st["count"],
                ", ".join(
                    f"FULL SCAN {t} ({sizes.get(t, '?'):,} rows)"
                    if isinstance(sizes.get(t), int)
                    else f"FULL SCAN {t}"
                    for t in st["full_scans"]
                )
                or "indexed",
                sql,
            ]
        )
    scans = [s for s in result["statements"] if s["full_scans"]]
    lines = [
        table(["runs", "plan", "statement (literals as ?)"], rows),
        "",
        f"{len(result['statements'])} distinct statements; {len(scans)} scan a whole table "
        f"(store pre-filled with {result['rows']:,} messages; {result['messages']} sent).",
    ]
    for st in scans:
        sql = st["sql"]
        at = sql.find(" FROM ") if " FROM " in sql else sql.find(" WHERE ")
        where = sql[max(0, at) :]
        lines.append(f"\n…{where}\n  plan: {' / '.join(st['plan'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="pre-fill this many messages")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--json", help="also write the plans here")
    args = parser.parse_args()
    print(header("Query plans of switchboard serve on SQLite"), flush=True)
    result = run(rows=min(args.rows, 5_000_000), messages=max(1, min(args.messages, 10_000)))
    print(report(result))
    dump_json(args.json, result)


if __name__ == "__main__":
    main()
