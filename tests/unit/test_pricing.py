"""Message cost: per part for SMS, per message otherwise, the `*` rate for other countries."""

from __future__ import annotations

from switchboard.domain.pricing import message_cost

RATES = {"SMS": {"US": "0.0040", "*": "0.0500"}, "MMS": {"US": "0.0150"}}


def test_costs_by_type_country_and_parts() -> None:
    assert message_cost(RATES, "SMS", "US", 1) == "0.0040"
    assert message_cost(RATES, "SMS", "US", 3) == "0.0120"
    assert message_cost(RATES, "SMS", "US", 0) == "0.0040"  # at least one part
    assert message_cost(RATES, "SMS", "FR", 2) == "0.1000"  # the `*` rate
    assert message_cost(RATES, "MMS", "US", 4) == "0.0150"  # per message
    assert message_cost(RATES, "MMS", "FR", 1) == "0.0000"  # no MMS rate there
    assert message_cost(RATES, "WHATSAPP", "US", 2) == "0.0040"  # priced as one SMS part
    # Asked again (from the cache), the same answers.
    assert message_cost(RATES, "SMS", "US", 3) == "0.0120"
    assert message_cost({"SMS": {"US": "0.0041"}}, "SMS", "US", 3) == "0.0123"
