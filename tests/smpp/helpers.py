"""Test helpers for the SMPP connector: the simulator's client, an event recorder, a config
factory and a polling wait."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.carriers.base import DeliveryReport, MobileOriginated, OutboundSubmission
from switchboard.carriers.smpp import SmppCarrierConfig

SYSTEM_ID = "switchboard"
PASSWORD = "secret"


@dataclass
class Simulator:
    """The node-smpp SMSC of tests/smpp/simulator, driven over its admin port."""

    process: subprocess.Popen[str]
    smpp_port: int
    admin_port: int

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.admin_port}{path}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    # Blocking calls are fine from plain code; async tests use the a* twins.
    def state(self) -> dict[str, Any]:
        return dict(self._call("/state"))

    def configure(self, **settings: Any) -> None:
        self._call("/config", settings)

    async def astate(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.state)

    async def aconfigure(self, **settings: Any) -> None:
        await asyncio.to_thread(self.configure, **settings)

    async def mo(self, **message: Any) -> int:
        result = await asyncio.to_thread(self._call, "/mo", message)
        return int(result["parts"])

    async def release(self, count: int | None = None) -> int:
        body = {} if count is None else {"count": count}
        result = await asyncio.to_thread(self._call, "/release", body)
        return int(result["released"])

    async def drop(self) -> None:
        await asyncio.to_thread(self._call, "/drop", {})

    async def unbind(self) -> None:
        await asyncio.to_thread(self._call, "/unbind", {})

    async def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in (await self.astate())["events"] if e["type"] == kind]


@dataclass
class Recorder:
    """A CarrierEvents sink that remembers what it was told."""

    reports: list[DeliveryReport] = field(default_factory=list)
    mo: list[MobileOriginated] = field(default_factory=list)
    fail_reports: int = 0  # raise on this many delivery_report calls first

    async def delivery_report(self, report: DeliveryReport) -> None:
        if self.fail_reports > 0:
            self.fail_reports -= 1
            raise RuntimeError("store unavailable")
        self.reports.append(report)

    async def mobile_originated(self, message: MobileOriginated) -> None:
        self.mo.append(message)

    def report_for(self, carrier_message_id: str) -> DeliveryReport | None:
        for report in self.reports:
            if report.carrier_message_id == carrier_message_id:
                return report
        return None


def config_for(port: int, **overrides: Any) -> SmppCarrierConfig:
    """Settings with test-sized timings: everything settles well within a second or two."""
    values: dict[str, Any] = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": port,
        "system_id": SYSTEM_ID,
        "password": PASSWORD,
        "connect_timeout": 2.0,
        "response_timeout": 2.0,
        "enquire_link_interval": 5.0,
        "reconnect_backoff_min": 0.05,
        "reconnect_backoff_max": 0.4,
        "throttle_backoff_min": 0.1,
        "throttle_backoff_max": 0.4,
        "submit_timeout": 8.0,
        "retry_after": 5.0,
        "receipt_hold": 2.0,
    }
    values.update(overrides)
    return SmppCarrierConfig.model_validate(values)


def sms(
    to: str = "+15559990000",
    text: str = "Hello from switchboard",
    *,
    encoding: str = "GSM-7",
    sender: str = "+15550001111",
    sender_type: str = "long_code",
    parts: int = 1,
    **extra: Any,
) -> OutboundSubmission:
    return OutboundSubmission(
        message_id=f"msg-{time.monotonic_ns()}",
        sender=sender,
        sender_type=sender_type,  # type: ignore[arg-type]
        to=to,
        text=text,
        encoding=encoding,  # type: ignore[arg-type]
        parts=parts,
        **extra,
    )


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Poll `check` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)
