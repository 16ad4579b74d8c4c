"""A real `switchboard serve` process on a free port, and helpers to drive and inspect it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import telnyx

from switchboard.store.database import create_engine

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server process; can be killed and restarted on the same database and port."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        config: Path | None = None,
        role: str = "serve",
    ) -> None:
        self.db_url = db_url
        self.config = config
        self.role = role  # serve | api | worker
        self.workdir = workdir
        self.port = free_port()
        self.api_key = "KEYTEST" + uuid.uuid4().hex.upper()
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        env.update(
            SWITCHBOARD_API_KEY=self.api_key,
            SWITCHBOARD_SANDBOX__DELIVERY_DELAY="0.05",
            SWITCHBOARD_SANDBOX__UNCONFIRMED_AFTER="0.3",
            SWITCHBOARD_DISPATCHER__POLL_INTERVAL="0.1",
            # Telnyx's per-sender defaults (0.1 part/s for long codes) would make bursts in
            # tests wait minutes; tests of the limits themselves set their own.
            SWITCHBOARD_THROUGHPUT__LONG_CODE="10000",
            SWITCHBOARD_THROUGHPUT__TOLL_FREE="10000",
            SWITCHBOARD_THROUGHPUT__SHORT_CODE="10000",
            SWITCHBOARD_THROUGHPUT__ALPHANUMERIC="10000",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process's life
        command = [sys.executable, "-m", "switchboard", self.role, "--db", self.db_url]
        if self.role != "worker":
            command += ["--port", str(self.port)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        self.proc = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        offset = log.tell()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            if self.role == "worker":
                if b"ready" in self.log_path.read_bytes()[offset:]:
                    return
                time.sleep(0.1)
                continue
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or power loss of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def client(self, api_key: str | None = None) -> telnyx.Telnyx:
        return telnyx.Telnyx(
            api_key=api_key or self.api_key,
            base_url=self.api_url,
            _strict_response_validation=True,
            max_retries=0,
        )

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "switchboard", *args, "--db", self.db_url],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            check=True,
            text=True,
            timeout=60,
        )
        return out.stdout

    def new_account_key(self, name: str = "other") -> str:
        output = self.cli("accounts", "create", name)
        return output.split("api key ")[1].strip()

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Read the server's database directly (to assert stored rows)."""

        async def run() -> list[dict[str, Any]]:
            engine = create_engine(self.db_url)
            try:
                async with engine.connect() as conn:
                    result = await conn.execute(sa.text(sql), params)
                    return [dict(r._mapping) for r in result]
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def execute(self, sql: str, **params: Any) -> None:
        async def run() -> None:
            engine = create_engine(self.db_url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(sa.text(sql), params)
            finally:
                await engine.dispose()

        asyncio.run(run())


_counter = iter(range(10_000))


def new_number(prefix: str = "+1312555") -> str:
    """A valid, unused US long code for this test session (never a sandbox magic number)."""
    return f"{prefix}{2000 + next(_counter):04d}"


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def postgres_database(base_url: str) -> Iterator[str]:
    """Create a throwaway database on the server at `base_url`; drop it afterwards."""
    import asyncpg

    name = f"switchboard_test_{uuid.uuid4().hex[:12]}"
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
