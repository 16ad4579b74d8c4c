"""Fixtures for the SMPP tests: the node-smpp simulator on a free port."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smpp.helpers import PASSWORD, SYSTEM_ID, Simulator

SIMULATOR_DIR = Path(__file__).parent / "simulator"


@pytest.fixture(scope="session")
def node_ready() -> str:
    """Path of `node`, with the simulator's npm dependencies installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the SMPP simulator (node-smpp) cannot run")
    if not (SIMULATOR_DIR / "node_modules" / "smpp").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("node is installed but npm is not: cannot install the simulator")
        command = "ci" if (SIMULATOR_DIR / "package-lock.json").exists() else "install"
        subprocess.run(
            [npm, command, "--no-audit", "--no-fund"],
            cwd=SIMULATOR_DIR,
            check=True,
            timeout=300,
        )
    return node


@pytest.fixture
def sim(node_ready: str) -> Iterator[Simulator]:
    process = subprocess.Popen(
        [
            node_ready,
            str(SIMULATOR_DIR / "simulator.js"),
            "--system-id",
            SYSTEM_ID,
            "--password",
            PASSWORD,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 10)
        if not ready:
            raise RuntimeError("the SMPP simulator did not start within 10 s")
        ports = json.loads(process.stdout.readline())
        yield Simulator(process, ports["smpp_port"], ports["admin_port"])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
