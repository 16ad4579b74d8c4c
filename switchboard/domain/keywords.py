"""Opt-out, opt-in and help keywords (DECISIONS item 10) and the auto-reply they trigger.

The whole inbound text, trimmed and compared case-insensitively, must be a keyword: "STOP"
and "  stop\\n" match, "please stop" does not. Inner runs of whitespace count as one space,
so "STOP  ALL" matches "STOP ALL". A profile can add keywords and replace the reply per
sender country with auto-response configs (`op` `stop`, `start` or `info`); the built-in
keywords always keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Op = Literal["stop", "start", "info"]

DEFAULT_KEYWORDS: dict[Op, tuple[str, ...]] = {
    "stop": (
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "REVOKE",
    ),
    "start": ("START", "UNSTOP", "YES", "OPTIN"),
    "info": ("HELP", "INFO"),
}

DEFAULT_REPLIES: dict[Op, str] = {
    "stop": (
        "You have been unsubscribed and will receive no more messages from this number. "
        "Reply START to resubscribe."
    ),
    "start": (
        "You have been resubscribed to messages from this number. "
        "Reply HELP for help, STOP to unsubscribe."
    ),
    "info": "Reply STOP to unsubscribe, START to resubscribe. Msg&data rates may apply.",
}

# `autoresponse_type` on the inbound message resource (the SDK names START, STOP, HELP).
AUTORESPONSE_TYPE: dict[Op, str] = {"stop": "STOP", "start": "START", "info": "HELP"}

ANY_COUNTRY = "*"


@dataclass(frozen=True)
class Rule:
    """One auto-response config as the matcher needs it."""

    op: Op
    keywords: Sequence[str]
    country_code: str
    resp_text: str | None


@dataclass(frozen=True)
class KeywordMatch:
    op: Op
    keyword: str  # normalised keyword that matched, e.g. "STOP"
    reply: str | None  # auto-reply text; None sends no reply

    @property
    def autoresponse_type(self) -> str:
        return AUTORESPONSE_TYPE[self.op]


def normalize(text: str) -> str:
    """Trimmed, upper-cased, inner whitespace collapsed to single spaces."""
    return " ".join(text.split()).upper()


def _applicable(rules: Iterable[Rule], country: str) -> list[Rule]:
    """Rules for the sender's country first, then the `*` ones."""
    rules = list(rules)
    exact = [r for r in rules if country and r.country_code.upper() == country.upper()]
    wildcard = [r for r in rules if r.country_code == ANY_COUNTRY]
    return exact + wildcard


def match(text: str, rules: Iterable[Rule] = (), country: str = "") -> KeywordMatch | None:
    """The keyword `text` is, if any, with the reply to send.

    A configured keyword wins over a built-in one and replies with its config's `resp_text`
    (no reply when that is empty). A built-in keyword replies with the `resp_text` of the
    first applicable config for its operation that has one, else with the default text.
    """
    said = normalize(text)
    if not said:
        return None
    applicable = _applicable(rules, country)
    for rule in applicable:
        if any(normalize(k) == said for k in rule.keywords):
            return KeywordMatch(rule.op, said, rule.resp_text or None)
    for op, words in DEFAULT_KEYWORDS.items():
        if said in words:
            custom = next((r.resp_text for r in applicable if r.op == op and r.resp_text), None)
            return KeywordMatch(op, said, custom or DEFAULT_REPLIES[op])
    return None
