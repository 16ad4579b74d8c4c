"""Reassembly of concatenated mobile-originated messages (UDH 8/16-bit and SAR).

Parts are kept as decoded-ready units (GSM septets unpacked, other codings as sent) and
joined before decoding, so a character split across parts still decodes. A message whose
parts stop arriving is released after `timeout` with the parts that did arrive, in order,
rather than silently dropped.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

Key = tuple[str, str, str, int, int]
"""(source, destination, kind, reference, total)."""


@dataclass
class _Pending:
    data_coding: int
    since: float
    parts: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Assembled:
    key: Key
    data_coding: int
    units: bytes
    complete: bool


class Reassembler:
    def __init__(
        self,
        timeout: float,
        *,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout
        self._max_pending = max_pending
        self._clock = clock
        self._pending: OrderedDict[Key, _Pending] = OrderedDict()

    def add(self, key: Key, sequence: int, units: bytes, data_coding: int) -> Assembled | None:
        """Store one part; the whole message once every part is in.

        The parts stay stored until `discard(key)`, so a part re-sent by the SMSC after a
        failed hand-over completes the message again instead of starting over.
        """
        pending = self._pending.get(key)
        if pending is None:
            pending = _Pending(data_coding, self._clock())
            self._pending[key] = pending
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
        pending.parts[sequence] = units
        total = key[4]
        if all(seq in pending.parts for seq in range(1, total + 1)):
            return self._assemble(key, pending, complete=True)
        return None

    def discard(self, key: Key) -> None:
        self._pending.pop(key, None)

    def expire(self) -> list[Assembled]:
        """Messages waiting longer than the timeout, with whatever parts arrived."""
        now = self._clock()
        expired = [k for k, p in self._pending.items() if now - p.since >= self._timeout]
        return [self._assemble(key, self._pending.pop(key), complete=False) for key in expired]

    @property
    def pending(self) -> int:
        return len(self._pending)

    @staticmethod
    def _assemble(key: Key, pending: _Pending, *, complete: bool) -> Assembled:
        units = b"".join(pending.parts[seq] for seq in sorted(pending.parts))
        return Assembled(key, pending.data_coding, units, complete)
