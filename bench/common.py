"""Shared pieces of the benchmarks: processes, ports, load tools, statistics and tables.

Every process a benchmark starts goes through `Proc`, which puts it in its own session and
stops it (SIGINT, then SIGKILL to that session only) on exit, on error and on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
# Benchmark another copy of the code (e.g. `git archive HEAD switchboard | tar -x -C DIR`)
# while the working tree changes: servers and the store fill import `switchboard` from here.
SRC = os.environ.get("BENCH_SWITCHBOARD_SRC") or None

API_KEY = "KEYbench"
FROM_NUMBER = "+12025550142"
TO_NUMBER = "+13125550100"
SEND_BODY = json.dumps(
    {
        "from": FROM_NUMBER,
        "to": TO_NUMBER,
        "text": "Your Switchboard verification code is 493021. Reply STOP to opt out.",
    }
)
JSON_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}

# --------------------------------------------------------------------------- machine


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def system_info() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "load": loadavg(),
    }


def header(title: str) -> str:
    info = system_info()
    return (
        f"## {title}\n\n"
        f"machine: {info['nproc']} cores, {info['memory_gib']} GiB, {info['cpu']}; "
        f"Python {info['python']}; load average at start {info['load']}\n"
        f"code: {code_under_test()}\n"
    )


# --------------------------------------------------------------------------- processes

_LIVE: list[Proc] = []


def _stop_all() -> None:
    for proc in list(_LIVE):
        proc.stop()


def _on_term(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
with contextlib.suppress(ValueError):  # only possible in the main thread
    signal.signal(signal.SIGTERM, _on_term)


def run_child(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a helper to completion (its output captured); on timeout, error or Ctrl-C it is
    killed with everything it started, so nothing outlives the benchmark."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux `/proc/PID/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Proc:
    """A child process in its own session, logged to a file, always stopped at exit."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        _LIVE.append(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        if self in _LIVE:
            _LIVE.remove(self)
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        # Anything the child left in its own session goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._log.close()
        return self.popen.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_log(proc: Proc, text: str, timeout: float = 60.0) -> None:
    """Until `proc` has logged `text` (a worker process has no HTTP port to poll)."""
    deadline = time.monotonic() + timeout
    while text not in proc.log_path.read_text(errors="replace"):
        if not proc.alive():
            raise RuntimeError(f"{proc.argv[0]} exited:\n{proc.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.argv[0]} never logged {text!r}:\n{proc.log_tail()}")
        time.sleep(0.05)


def wait_http(url: str, proc: Proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.argv[0]} exited early:\n{proc.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{proc.log_tail()}")


@contextlib.contextmanager
def workdir(prefix: str = "switchboard-bench-") -> Iterator[Path]:
    """A scratch directory, removed afterwards unless BENCH_KEEP_WORKDIR is set (to look at
    the database a run left)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP_WORKDIR"):
            print(f"work directory kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


async def pg_admin(url: str, sql: str) -> None:
    """One statement on the PostgreSQL server at `url` (CREATE / DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_reachable(url: str) -> bool:
    try:
        asyncio.run(asyncio.wait_for(pg_admin(url, "SELECT 1"), 5))
    except Exception:
        return False
    return True


@contextlib.contextmanager
def throwaway_postgres(pg_url: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database on `pg_url`'s server, dropped afterwards
    unless BENCH_KEEP_WORKDIR is set (as `workdir` keeps a SQLite file)."""
    name = f"switchboard_bench_{uuid.uuid4().hex[:10]}"
    base, _, _ = pg_url.rpartition("/")
    asyncio.run(pg_admin(pg_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        if os.environ.get("BENCH_KEEP_WORKDIR"):
            print(f"database kept: {base}/{name}")
        else:
            asyncio.run(pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate(db_url: str, work: Path) -> None:
    """`switchboard migrate` on `db_url` (the code under test's schema)."""
    out = run_child(
        [str(BIN / "switchboard"), "migrate", "--db", db_url],
        env=child_env(),
        cwd=work,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"switchboard migrate failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the processes that import `switchboard`: no stray SWITCHBOARD_*
    settings, and `switchboard` imported from BENCH_SWITCHBOARD_SRC when that is set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, str(ROOT)) if p)
    env.update(extra or {})
    return env


# The carrier's per-sender rate (Telnyx's long-code limit, enforced by the dispatcher) is a
# policy, not a cost: lifted so the benchmarks measure the platform. Harmless on code that
# has no such setting (unknown SWITCHBOARD_* variables are ignored).
UNTHROTTLED = {
    "SWITCHBOARD_THROUGHPUT__LONG_CODE": "1000000",
    "SWITCHBOARD_THROUGHPUT__TOLL_FREE": "1000000",
}


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return child_env({"SWITCHBOARD_API_KEY": API_KEY, **UNTHROTTLED, **(extra or {})})


def code_under_test() -> str:
    """Which code the servers run: a source copy, or the working tree and its commit."""
    if SRC:
        return f"switchboard from {SRC}"
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "switchboard"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "switchboard from the working tree"
    return f"switchboard from the working tree at {head or '?'}" + (
        " with uncommitted changes" if dirty else ""
    )


class Switchboard:
    """`switchboard serve` (or another role: `api` accepts without delivering) on a free
    port of 127.0.0.1."""

    def __init__(
        self,
        db_url: str,
        work: Path,
        env: dict[str, str] | None = None,
        role: str = "serve",
        config: Path | None = None,
    ) -> None:
        self.db_url = db_url
        self.work = work
        self.port = free_port()
        self.name = f"switchboard {role}"
        options = ["--config", str(config)] if config is not None else []
        self.proc = Proc(
            [str(BIN / "switchboard"), role, "--port", str(self.port), "--db", db_url, *options],
            log_path=work / f"switchboard-{self.port}.log",
            env=server_env(env),
            cwd=work,
        )
        wait_http(f"{self.base}/healthz", self.proc)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def send_url(self) -> str:
        return f"{self.base}/v2/messages"

    def stop(self) -> None:
        self.proc.stop()


class LocalHttpProcess:
    """A small helper HTTP app of the benchmarks (`python -m bench.MODULE`) on a free port."""

    def __init__(self, work: Path, module: str) -> None:
        self.port = free_port()
        self.proc = Proc(
            [PYTHON, "-m", f"bench.{module}", "--port", str(self.port)],
            log_path=work / f"{module}-{self.port}.log",
            cwd=ROOT,
        )
        wait_http(f"{self.base}/healthz", self.proc)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.stop()


class Baseline(LocalHttpProcess):
    """The bare Starlette app (bench/baseline_app.py) under the same uvicorn settings."""

    name = "bare Starlette"

    def __init__(self, work: Path) -> None:
        super().__init__(work, "baseline_app")

    @property
    def send_url(self) -> str:
        return f"{self.base}/v2/messages"


def post_json(url: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method=method, headers=JSON_HEADERS
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def get_json(url: str) -> dict[str, Any]:
    req = urllib.request.Request(url, headers=JSON_HEADERS)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


# --------------------------------------------------------------------------- load tools


@dataclass
class LoadResult:
    tool: str
    mode: str  # "closed, 64 connections" or "open, 1000/s"
    requests: int  # completed responses
    ok: int  # 2xx responses
    errors: int  # non-2xx, socket errors, timeouts
    seconds: float
    rps: float  # 2xx responses per second
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {{"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,'
    .. '"read":%d,"write":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int = 64,
    body: str = SEND_BODY,
    work: Path,
) -> LoadResult:
    """wrk -t1 (one thread, as in PERF-BASELINES) with a POST script; latency from its histogram."""
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in JSON_HEADERS.items())
    script = work / f"post-{os.getpid()}-{time.monotonic_ns()}.lua"
    script.write_text(WRK_SCRIPT.format(body=body, headers=headers))
    wrk = wrk_path()
    assert wrk
    argv = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = run_child(argv, timeout=seconds + 60)
    script.unlink(missing_ok=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("BENCH-JSON "))
    secs = r["duration_us"] / 1e6
    errors = r["status_errors"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    ok = r["requests"] - r["status_errors"]
    return LoadResult(
        tool="wrk 4.1 (Debian), 1 thread",
        mode=f"closed loop, {connections} keep-alive connections",
        requests=r["requests"],
        ok=ok,
        errors=errors,
        seconds=secs,
        rps=ok / secs if secs else 0.0,
        p50_ms=r["p50"] / 1000,
        p90_ms=r["p90"] / 1000,
        p99_ms=r["p99"] / 1000,
        max_ms=r["max"] / 1000,
        extra={"wrk_text": out.stdout},
    )


def run_loadgen(
    url: str,
    *,
    seconds: float,
    connections: int = 64,
    rate: float = 0.0,
    body: str = SEND_BODY,
    limit: int = 0,
) -> LoadResult:
    """The aiohttp generator (bench/loadgen.py) in its own process: closed loop, or open loop
    at a fixed `rate` (latency counted from each request's scheduled time)."""
    argv = [
        PYTHON,
        "-m",
        "bench.loadgen",
        "--url",
        url,
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
        "--rate",
        str(rate),
        "--limit",
        str(limit),
        "--body",
        body,
    ]
    out = run_child(argv, timeout=seconds + 120, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return LoadResult(**json.loads(out.stdout.strip().splitlines()[-1]))


def closed_loop(
    url: str,
    *,
    seconds: float,
    connections: int = 64,
    limit: int = 0,
    work: Path,
    tool: str = "auto",
) -> LoadResult:
    # wrk cannot stop after a count (its thread stops, but it sleeps out the duration), so a
    # count-bounded run uses the aiohttp generator.
    if limit <= 0 and (tool == "wrk" or (tool == "auto" and wrk_path())):
        return run_wrk(url, seconds=seconds, connections=connections, work=work)
    return run_loadgen(url, seconds=seconds, connections=connections, limit=limit)


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (any order); 0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def fmt(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.0%}" if b else "–"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def dump_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2, default=str))
