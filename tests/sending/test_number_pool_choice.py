"""The number pool's choice rules (domain/number_pool.py), without a server."""

from __future__ import annotations

from collections import Counter
from random import Random

from switchboard.domain.number_pool import (
    PoolNumber,
    PoolSettings,
    choose,
    eligible,
    nanp_area_code,
)

LONG_A = PoolNumber("+13125552001", "long_code")
LONG_B = PoolNumber("+14155552002", "long_code")
TOLL = PoolNumber("+18445552003", "toll_free")
POOL = [LONG_A, LONG_B, TOLL]


def settings(**overrides: object) -> PoolSettings:
    values: dict[str, object] = {
        "long_code_weight": 1.0,
        "toll_free_weight": 1.0,
        "skip_unhealthy": False,
    }
    values.update(overrides)
    return PoolSettings.from_profile(values)


def picks(pool: list[PoolNumber], s: PoolSettings, n: int = 2000, **kw: object) -> Counter[str]:
    rng = Random(1234)
    out: Counter[str] = Counter()
    for _ in range(n):
        chosen = choose(pool, s, "+16175550100", rng=rng, **kw)  # type: ignore[arg-type]
        assert chosen is not None
        out[chosen.phone_number] += 1
    return out


def test_weights_split_between_types() -> None:
    counts = picks(POOL, settings(long_code_weight=1, toll_free_weight=3))
    toll_share = counts[TOLL.phone_number] / 2000
    assert 0.70 < toll_share < 0.80
    # Within a type, numbers share evenly.
    assert abs(counts[LONG_A.phone_number] - counts[LONG_B.phone_number]) < 120


def test_zero_weight_leaves_a_type_out() -> None:
    assert set(picks(POOL, settings(toll_free_weight=0), 200)) == {
        LONG_A.phone_number,
        LONG_B.phone_number,
    }
    assert set(picks(POOL, settings(long_code_weight=0), 200)) == {TOLL.phone_number}
    assert choose([LONG_A], settings(long_code_weight=0), "+1", rng=Random(0)) is None


def test_same_seed_same_choices() -> None:
    s = settings(long_code_weight=2, toll_free_weight=1)
    first = [choose(POOL, s, "+16175550100", rng=r) for r in [Random(9)] for _ in range(50)]
    second = [choose(POOL, s, "+16175550100", rng=r) for r in [Random(9)] for _ in range(50)]
    assert first == second


def test_skip_unhealthy() -> None:
    sick = PoolNumber(LONG_A.phone_number, "long_code", healthy=False)
    pool = [sick, LONG_B]
    assert set(picks(pool, settings(skip_unhealthy=True), 200)) == {LONG_B.phone_number}
    assert set(picks(pool, settings(skip_unhealthy=False), 200)) == {
        LONG_A.phone_number,
        LONG_B.phone_number,
    }
    assert choose([sick], settings(skip_unhealthy=True), "+1", rng=Random(0)) is None
    assert eligible([sick, TOLL], settings(skip_unhealthy=True)) == [TOLL]


def test_sticky_sender_reuses_the_previous_number_while_eligible() -> None:
    s = settings(sticky_sender=True)
    assert set(picks(POOL, s, 100, previous=LONG_B.phone_number)) == {LONG_B.phone_number}
    # Unknown previous sender (e.g. since removed from the pool): a normal pick.
    assert len(picks(POOL, s, 300, previous="+19995550000")) == 3
    # Sticky number turned unhealthy with skip_unhealthy on: another is picked.
    sick_b = PoolNumber(LONG_B.phone_number, "long_code", healthy=False)
    counts = picks(
        [LONG_A, sick_b],
        settings(sticky_sender=True, skip_unhealthy=True),
        50,
        previous=LONG_B.phone_number,
    )
    assert set(counts) == {LONG_A.phone_number}
    # Without sticky_sender the previous sender is ignored.
    assert len(picks(POOL, settings(), 300, previous=LONG_B.phone_number)) == 3


def test_geomatch_prefers_the_destination_area_code() -> None:
    s = settings(geomatch=True)
    rng = Random(5)
    for _ in range(50):
        chosen = choose(POOL, s, "+14155550100", rng=rng)
        assert chosen == LONG_B
    # No number in the area: any number.
    seen = {choose(POOL, s, "+16175550100", rng=rng) for _ in range(300)}
    assert seen == set(POOL)
    # Not NANP: any number.
    assert {choose(POOL, s, "+442071838750", rng=rng) for _ in range(300)} == set(POOL)
    # Geomatch only among eligible numbers.
    assert (
        choose(POOL, settings(geomatch=True, long_code_weight=0), "+14155550100", rng=rng) == TOLL
    )


def test_area_codes() -> None:
    assert nanp_area_code("+14155550100") == "415"
    assert nanp_area_code("+442071838750") is None
    assert nanp_area_code("+1415") is None
