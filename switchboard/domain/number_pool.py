"""Number pool: which of a profile's numbers sends a message (profiles.md §3).

Pure: the caller supplies the numbers with their health, the recipient's previous sender
(for sticky sender) and the random source, so every choice is reproducible under test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Literal

PoolKind = Literal["long_code", "toll_free"]


@dataclass(frozen=True)
class PoolNumber:
    phone_number: str  # E.164
    kind: PoolKind
    healthy: bool = True


@dataclass(frozen=True)
class PoolSettings:
    """A profile's `number_pool_settings`."""

    long_code_weight: float
    toll_free_weight: float
    skip_unhealthy: bool
    sticky_sender: bool = False
    geomatch: bool = False

    @classmethod
    def from_profile(cls, settings: Mapping[str, Any]) -> PoolSettings:
        return cls(
            long_code_weight=float(settings.get("long_code_weight") or 0),
            toll_free_weight=float(settings.get("toll_free_weight") or 0),
            skip_unhealthy=bool(settings.get("skip_unhealthy")),
            sticky_sender=bool(settings.get("sticky_sender")),
            geomatch=bool(settings.get("geomatch")),
        )

    def weight(self, kind: str) -> float:
        if kind == "long_code":
            return max(self.long_code_weight, 0.0)
        if kind == "toll_free":
            return max(self.toll_free_weight, 0.0)
        return 0.0


def nanp_area_code(e164: str) -> str | None:
    """The area code of a NANP number (`+1 NPA NXX XXXX`), else None."""
    if e164.startswith("+1") and len(e164) == 12 and e164[2:].isdigit():
        return e164[2:5]
    return None


def eligible(numbers: Sequence[PoolNumber], settings: PoolSettings) -> list[PoolNumber]:
    """The numbers a message may go out from: a kind with weight 0 is left out, and so are
    unhealthy numbers when `skip_unhealthy` is on."""
    return [
        n
        for n in numbers
        if settings.weight(n.kind) > 0 and (n.healthy or not settings.skip_unhealthy)
    ]


def choose(
    numbers: Sequence[PoolNumber],
    settings: PoolSettings,
    destination: str,
    *,
    rng: Random,
    previous: str | None = None,
) -> PoolNumber | None:
    """Pick the sender for `destination`, or None when no number is eligible.

    1. Eligible numbers only (weights above 0; healthy ones when `skip_unhealthy`).
    2. Sticky sender: the number that last sent to this recipient, if still eligible.
    3. Geomatch: for a NANP destination, numbers with its area code when there are any.
    4. Weights: long code or toll-free in proportion to their weights (among the kinds
       present), then one number of that kind, uniformly.
    """
    candidates = eligible(numbers, settings)
    if not candidates:
        return None
    if settings.sticky_sender and previous is not None:
        for number in candidates:
            if number.phone_number == previous:
                return number
    if settings.geomatch:
        area = nanp_area_code(destination)
        local = [n for n in candidates if area and nanp_area_code(n.phone_number) == area]
        if local:
            candidates = local
    kinds = sorted({n.kind for n in candidates})
    draw = rng.random() * sum(settings.weight(k) for k in kinds)
    kind = kinds[-1]
    for candidate_kind in kinds:
        draw -= settings.weight(candidate_kind)
        if draw < 0:
            kind = candidate_kind
            break
    group = sorted((n for n in candidates if n.kind == kind), key=lambda n: n.phone_number)
    return group[rng.randrange(len(group))]
