"""Joining per-part receipts into one report per submission.

Every part of a long message gets its own SMSC id and its own receipt. The submission is
reported by the comma-joined part ids (what `Accepted.carrier_message_id` holds, and what the
store must persist), and it is reported once:

* `delivered` only when every part has been delivered;
* `delivery_failed` or `expired` as soon as one part fails (the text can no longer arrive
  whole); receipts for the other parts are then swallowed;
* `delivery_unconfirmed` when every part has a final receipt and some say UNKNOWN.

A receipt can overtake its submit_sm_resp. Receipts for ids nobody registered are held for
`hold` seconds; if the id appears in that time the receipt is matched, otherwise it is
released on its own, under the bare part id, for the caller to match (after a restart, say).
`restore()` re-registers a persisted carrier_message_id so aggregation survives restarts.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.carriers.smpp.receipts import Outcome

_SEVERITY = {"delivered": 0, "delivery_unconfirmed": 1, "expired": 2, "delivery_failed": 3}


@dataclass(frozen=True)
class Ready:
    """A report that can go out now."""

    carrier_message_id: str
    outcome: Outcome
    occurred_at: datetime | None


@dataclass
class Group:
    """The parts of one submission, as they are acknowledged and receipted."""

    parts: int
    ids: list[str | None]
    outcomes: dict[int, tuple[Outcome, datetime | None]] = field(default_factory=dict)
    carrier_message_id: str | None = None
    decision: tuple[Outcome, datetime | None] | None = None
    reported: bool = False


@dataclass(frozen=True)
class _Held:
    outcome: Outcome
    occurred_at: datetime | None
    since: float


class PartTracker:
    def __init__(
        self,
        hold: float,
        *,
        max_groups: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hold = hold
        self._max_groups = max_groups
        self._clock = clock
        self._groups: OrderedDict[int, Group] = OrderedDict()
        self._index: dict[str, tuple[Group, int]] = {}
        self._done: OrderedDict[str, None] = OrderedDict()  # ids whose receipts are swallowed
        self._held: OrderedDict[str, _Held] = OrderedDict()

    # --- submission side ---------------------------------------------------------------

    def open(self, parts: int) -> Group:
        group = Group(parts, [None] * parts)
        self._groups[id(group)] = group
        while len(self._groups) > self._max_groups:
            _, oldest = self._groups.popitem(last=False)
            self._forget(oldest)
        return group

    def add_part(self, group: Group, index: int, part_id: str) -> None:
        """Register the SMSC id of one part, matching a receipt that came before it."""
        group.ids[index] = part_id
        self._index[part_id] = (group, index)
        self._done.pop(part_id, None)
        held = self._held.pop(part_id, None)
        if held is not None:
            self._record(group, index, held.outcome, held.occurred_at)

    def seal(self, group: Group) -> Ready | None:
        """The submission was accepted: fix its id; return a report already decided."""
        group.carrier_message_id = ",".join(i for i in group.ids if i is not None)
        return self._ready(group)

    def abandon(self, group: Group) -> None:
        """The submission was refused part-way: receipts of parts already sent are dropped."""
        self._forget(group)

    def restore(self, carrier_message_id: str) -> None:
        """Track a submission accepted before a restart, from its persisted id."""
        ids = [i for i in carrier_message_id.split(",") if i]
        if not ids or any(i in self._index for i in ids):
            return
        group = self.open(len(ids))
        for index, part_id in enumerate(ids):
            self.add_part(group, index, part_id)
        self.seal(group)

    # --- receipt side ------------------------------------------------------------------

    def on_receipt(
        self, part_id: str, outcome: Outcome, occurred_at: datetime | None
    ) -> Ready | None:
        """Feed one final receipt; returns the report it completes, if any."""
        entry = self._index.get(part_id)
        if entry is not None:
            group, index = entry
            self._record(group, index, outcome, occurred_at)
            return self._ready(group)
        if part_id in self._done:
            return None
        if self._hold <= 0:
            return Ready(part_id, outcome, occurred_at)
        self._held[part_id] = _Held(outcome, occurred_at, self._clock())
        while len(self._held) > self._max_groups:
            self._held.popitem(last=False)
        return None

    def expire_held(self) -> list[Ready]:
        """Receipts held longer than `hold`, released under their own part id."""
        now = self._clock()
        released = []
        while self._held:
            part_id, held = next(iter(self._held.items()))
            if now - held.since < self._hold:
                break
            del self._held[part_id]
            released.append(Ready(part_id, held.outcome, held.occurred_at))
        return released

    # --- introspection -----------------------------------------------------------------

    @property
    def open_groups(self) -> int:
        return len(self._groups)

    @property
    def held_receipts(self) -> int:
        return len(self._held)

    # --- internals ---------------------------------------------------------------------

    def _record(
        self, group: Group, index: int, outcome: Outcome, occurred_at: datetime | None
    ) -> None:
        if group.decision is not None or index in group.outcomes:
            return  # already decided, or a duplicate receipt for this part
        group.outcomes[index] = (outcome, occurred_at)
        if outcome.status in ("delivery_failed", "expired"):
            group.decision = (outcome, occurred_at)
        elif len(group.outcomes) == group.parts:
            group.decision = max(
                group.outcomes.values(), key=lambda item: _SEVERITY[item[0].status]
            )
            if group.decision[0].status == "delivered":
                # The message arrived when its last part did.
                latest = [at for _, at in group.outcomes.values() if at is not None]
                group.decision = (group.decision[0], max(latest) if latest else None)

    def _ready(self, group: Group) -> Ready | None:
        if group.decision is None or group.carrier_message_id is None or group.reported:
            return None
        group.reported = True
        self._forget(group)
        outcome, occurred_at = group.decision
        return Ready(group.carrier_message_id, outcome, occurred_at)

    def _forget(self, group: Group) -> None:
        self._groups.pop(id(group), None)
        for part_id in group.ids:
            if part_id is not None and self._index.get(part_id, (None, 0))[0] is group:
                del self._index[part_id]
                self._done[part_id] = None
        while len(self._done) > self._max_groups:
            self._done.popitem(last=False)
