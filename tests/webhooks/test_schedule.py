"""Retry rounds: Svix's schedule by default, configurable, exhausts cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.webhooks.schedule import DEFAULT_DELAYS, RetrySchedule, parse_duration

pytestmark = pytest.mark.timeout(10)


def test_default_schedule() -> None:
    s = RetrySchedule()
    assert s.delays == DEFAULT_DELAYS == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert s.rounds == 8
    assert s.first_delay() == 0
    assert [s.delay_after(n) for n in range(1, 9)] == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
        None,
    ]


def test_next_attempt_at_float_and_datetime() -> None:
    s = RetrySchedule()
    assert s.next_attempt_at(1, 1000.0) == 1005.0
    assert s.next_attempt_at(2, 1000.0) == 1300.0
    assert s.next_attempt_at(8, 1000.0) is None
    t = datetime(2026, 1, 5, tzinfo=UTC)
    assert s.next_attempt_at(3, t) == t + timedelta(minutes=30)
    assert s.next_attempt_at(9, t) is None


def test_round_numbers_start_at_one() -> None:
    with pytest.raises(ValueError):
        RetrySchedule().delay_after(0)


def test_parse_configuration() -> None:
    s = RetrySchedule.parse("0, 5s, 5m 30m,2h,5h, 10h, 10h")
    assert s == RetrySchedule()
    assert RetrySchedule.parse("500ms 1d").delays == (0.5, 86400)
    assert RetrySchedule.of([0, 1]).next_attempt_at(1, 10.0) == 11.0
    assert RetrySchedule.of([0]).next_attempt_at(1, 10.0) is None


@pytest.mark.parametrize("text", ["", "five", "5x", "-5s"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        RetrySchedule.parse(text)


def test_negative_delay_rejected() -> None:
    with pytest.raises(ValueError):
        RetrySchedule((0, -1))


def test_parse_duration() -> None:
    assert parse_duration("5") == 5
    assert parse_duration("2H") == 7200
