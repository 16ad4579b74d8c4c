"""Keyword matching (DECISIONS item 10) and text clean-up, without a server."""

from __future__ import annotations

import pytest

from switchboard.domain.keywords import DEFAULT_REPLIES, Rule, match, normalize
from switchboard.domain.text import clean_text, redact_number


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("STOP", "stop"),
        (" stop\n", "stop"),
        ("sToP aLL", "stop"),
        ("STOP\t\tALL", "stop"),
        ("revoke", "stop"),
        ("UNSTOP", "start"),
        ("optin", "start"),
        ("Help", "info"),
        ("INFO ", "info"),
        ("stop please", None),
        ("STOPP", None),
        ("", None),
        ("\n\t ", None),
    ],
)
def test_builtin_keywords(text: str, op: str | None) -> None:
    found = match(text)
    assert (found.op if found else None) == op
    if found:
        assert found.reply == DEFAULT_REPLIES[found.op]
        assert found.keyword == normalize(text)


def test_configs_add_keywords_and_replace_replies() -> None:
    rules = [
        Rule("stop", ["Basta"], "IT", "Ciao"),
        Rule("stop", ["HALT"], "*", None),
        Rule("info", [], "*", "Custom help"),
    ]
    it = match("basta", rules, "IT")
    assert it is not None and (it.op, it.reply, it.autoresponse_type) == ("stop", "Ciao", "STOP")
    assert match("basta", rules, "US") is None
    halt = match("halt", rules, "US")
    assert halt is not None and (halt.op, halt.reply) == ("stop", None)
    stop_it = match("STOP", rules, "IT")
    assert stop_it is not None and stop_it.reply == "Ciao"
    stop_us = match("STOP", rules, "US")
    assert stop_us is not None and stop_us.reply == DEFAULT_REPLIES["stop"]
    assert match("help", rules, "US").reply == "Custom help"  # type: ignore[union-attr]


def test_country_specific_rules_win_over_wildcards() -> None:
    rules = [Rule("start", ["GO"], "*", "any"), Rule("stop", ["go"], "FR", "fr")]
    assert match("GO", rules, "FR").op == "stop"  # type: ignore[union-attr]
    assert match("GO", rules, "US").op == "start"  # type: ignore[union-attr]


def test_clean_text_and_redaction() -> None:
    assert clean_text("ok \ud83d\x00 fine 😀") == "ok \ufffd\ufffd fine 😀"
    assert redact_number("+13125550100") == "+1******0100"
    assert redact_number("+447700900123") == "+4*******0123"
