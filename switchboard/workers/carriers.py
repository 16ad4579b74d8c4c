"""The carriers of one process: built from settings, started together, routed per message."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.carriers.base import Carrier, CarrierEvents
from switchboard.carriers.sandbox import SandboxCarrier
from switchboard.carriers.smpp.carrier import SmppCarrier
from switchboard.config import Settings
from switchboard.domain.routing import RoutingTable


class CarrierSet:
    def __init__(self, carriers: dict[str, Carrier], routes: RoutingTable) -> None:
        routes.check(set(carriers))
        self.carriers = carriers
        self.routes = routes

    @classmethod
    def from_settings(cls, settings: Settings) -> CarrierSet:
        """The sandbox is always available (as `sandbox`); SMPP carriers come from config."""
        sandbox = settings.sandbox
        carriers: dict[str, Carrier] = {
            "sandbox": SandboxCarrier(sandbox.delivery_delay, sandbox.unconfirmed_after)
        }
        for config in settings.carriers.smpp:
            if config.name in carriers:
                raise ValueError(f"two carriers are named {config.name!r}")
            carriers[config.name] = SmppCarrier(config)
        default = settings.carriers.default
        if default is None:
            first_smpp = next(iter(c.name for c in settings.carriers.smpp), None)
            default = "sandbox" if settings.mode == "sandbox" or not first_smpp else first_smpp
        routes = RoutingTable(
            default=default,
            by_sender=dict(settings.carriers.routes.numbers),
            by_prefix=dict(settings.carriers.routes.prefixes),
        )
        return cls(carriers, routes)

    def route(self, sender: str, destination: str) -> Carrier:
        return self.carriers[self.routes.carrier_for(sender, destination)]

    def get(self, name: str) -> Carrier | None:
        return self.carriers.get(name)

    @property
    def sandbox(self) -> SandboxCarrier:
        carrier = self.carriers["sandbox"]
        assert isinstance(carrier, SandboxCarrier)
        return carrier

    async def start(self, events: CarrierEvents) -> None:
        await asyncio.gather(*(c.start(events) for c in self.carriers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.carriers.values()), return_exceptions=True)

    def status(self) -> dict[str, Any]:
        """Each carrier's state (binds, window use, counters) as plain data."""
        out: dict[str, Any] = {}
        for name, carrier in self.carriers.items():
            report = getattr(carrier, "status", None)
            if not callable(report):
                out[name] = {"name": name, "state": "ready"}
                continue
            snapshot = report()
            to_dict = getattr(snapshot, "to_dict", None)
            out[name] = to_dict() if callable(to_dict) else _plain(snapshot)
        return out


def _plain(value: Any) -> Any:
    """Dataclasses and enums → JSON-ready values."""
    import dataclasses
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
