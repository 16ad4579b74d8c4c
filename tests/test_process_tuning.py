"""What every Switchboard process sets in its interpreter once started (switchboard/process.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, gc, json, sys
from switchboard.config import load_settings
from switchboard.process import running

async def main():
    before = sys.getswitchinterval(), gc.get_threshold()[0]
    async with running(load_settings(database_url=sys.argv[1]), with_workers=False):
        after = sys.getswitchinterval(), gc.get_threshold()[0]
        print(json.dumps({"before": before, "after": after}))

asyncio.run(main())
"""


def test_a_started_process_tunes_the_collector_and_the_gil_switch(tmp_path: Path) -> None:
    from switchboard.process import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL

    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'p.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"] == [0.005, 700]  # the interpreter's defaults
    assert seen["after"] == [SWITCH_INTERVAL, GC_YOUNG_THRESHOLD]
