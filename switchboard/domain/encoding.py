"""Telnyx SMS encoding rules: smart encoding, GSM-7/UCS-2 choice and segment counting.

"Encodable as GSM-7" means the full GSM 03.38 default alphabet plus its extension table
(:mod:`switchboard.domain.gsm7`). The Telnyx docs list a subset (no Greek capitals, ``€``,
``¤``, ``§``, ``Ç`` or form feed), but every one of those is valid GSM-7 on the wire, so
treating them as GSM-7 keeps messages in the cheaper encoding and matches what an SMSC
accepts.

``parts`` is always computed by actually splitting the text, so it can never disagree with
the segments the SMPP connector sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from switchboard.domain.gsm7 import GSM7_EXTENDED, UnencodableText, gsm7_length, is_gsm7

__all__ = [
    "GSM7_SEGMENT_SEPTETS",
    "GSM7_SINGLE_SEPTETS",
    "MAX_PARTS",
    "SMART_REPLACEMENTS",
    "UCS2_SEGMENT_UNITS",
    "UCS2_SINGLE_UNITS",
    "EncodedText",
    "Encoding",
    "EncodingMode",
    "UnencodableText",
    "analyze",
    "apply_smart_encoding",
    "split_segments",
]

Encoding = Literal["GSM-7", "UCS-2"]
"""Encoding names exactly as Telnyx reports them in the message resource."""

EncodingMode = Literal["auto", "gsm7", "ucs2"]
"""The request's ``encoding`` field."""

GSM7_SINGLE_SEPTETS = 160
GSM7_SEGMENT_SEPTETS = 153
"""Septets per segment once the 6-octet concatenation UDH takes its share of 140 octets."""
UCS2_SINGLE_UNITS = 70
UCS2_SEGMENT_UNITS = 67
"""UTF-16 code units per segment once the concatenation UDH takes its share."""
MAX_PARTS = 10
"""Telnyx's ceiling on ``parts``; enforcing it is up to request validation, not analysis."""

_DOUBLE_QUOTE = '"'
_SINGLE_QUOTE = "'"
_HYPHEN = "-"
_SPACE = " "

SMART_REPLACEMENTS: dict[str, str] = {
    # Double quotation marks and look-alikes.
    "\u00ab": _DOUBLE_QUOTE,  # left-pointing double angle quotation mark
    "\u00bb": _DOUBLE_QUOTE,  # right-pointing double angle quotation mark
    "\u201c": _DOUBLE_QUOTE,  # left double quotation mark
    "\u201d": _DOUBLE_QUOTE,  # right double quotation mark
    "\u201e": _DOUBLE_QUOTE,  # double low-9 quotation mark
    "\u201f": _DOUBLE_QUOTE,  # double high-reversed-9 quotation mark
    "\u2033": _DOUBLE_QUOTE,  # double prime
    "\u02ba": _DOUBLE_QUOTE,  # modifier letter double prime
    "\u02ee": _DOUBLE_QUOTE,  # modifier letter double apostrophe
    "\u275d": _DOUBLE_QUOTE,  # heavy double turned comma quotation mark ornament
    "\u275e": _DOUBLE_QUOTE,  # heavy double comma quotation mark ornament
    "\u301d": _DOUBLE_QUOTE,  # reversed double prime quotation mark
    "\u301e": _DOUBLE_QUOTE,  # double prime quotation mark
    "\uff02": _DOUBLE_QUOTE,  # fullwidth quotation mark
    # Single quotation marks, apostrophes and primes.
    "\u2018": _SINGLE_QUOTE,  # left single quotation mark
    "\u2019": _SINGLE_QUOTE,  # right single quotation mark
    "\u201a": _SINGLE_QUOTE,  # single low-9 quotation mark
    "\u201b": _SINGLE_QUOTE,  # single high-reversed-9 quotation mark
    "\u2032": _SINGLE_QUOTE,  # prime
    "\u2035": _SINGLE_QUOTE,  # reversed prime
    "\u02b9": _SINGLE_QUOTE,  # modifier letter prime
    "\u02bb": _SINGLE_QUOTE,  # modifier letter turned comma
    "\u02bc": _SINGLE_QUOTE,  # modifier letter apostrophe
    "\u02bd": _SINGLE_QUOTE,  # modifier letter reversed comma
    "\u02c8": _SINGLE_QUOTE,  # modifier letter vertical line
    "\u00b4": _SINGLE_QUOTE,  # acute accent
    "\u0060": _SINGLE_QUOTE,  # grave accent
    "\u275b": _SINGLE_QUOTE,  # heavy single turned comma quotation mark ornament
    "\u275c": _SINGLE_QUOTE,  # heavy single comma quotation mark ornament
    "\uff07": _SINGLE_QUOTE,  # fullwidth apostrophe
    "\u2039": "<",  # single left-pointing angle quotation mark
    "\u203a": ">",  # single right-pointing angle quotation mark
    # Hyphens and dashes.
    "\u2010": _HYPHEN,  # hyphen
    "\u2011": _HYPHEN,  # non-breaking hyphen
    "\u2012": _HYPHEN,  # figure dash
    "\u2013": _HYPHEN,  # en dash
    "\u2014": _HYPHEN,  # em dash
    "\u2015": _HYPHEN,  # horizontal bar
    "\u2212": _HYPHEN,  # minus sign
    "\ufe58": _HYPHEN,  # small em dash
    "\ufe63": _HYPHEN,  # small hyphen-minus
    "\uff0d": _HYPHEN,  # fullwidth hyphen-minus
    # Bullets.
    "\u2022": _HYPHEN,  # bullet
    "\u2023": _HYPHEN,  # triangular bullet
    "\u2043": _HYPHEN,  # hyphen bullet
    "\u2219": _HYPHEN,  # bullet operator
    "\u25e6": _HYPHEN,  # white bullet
    # Dots and other punctuation.
    "\u2024": ".",  # one dot leader
    "\u2025": "..",  # two dot leader
    "\u2026": "...",  # horizontal ellipsis
    "\u203c": "!!",  # double exclamation mark
    "\u2047": "??",  # double question mark
    "\u2048": "?!",  # question exclamation mark
    "\u2049": "!?",  # exclamation question mark
    "\u2044": "/",  # fraction slash
    "\u2215": "/",  # division slash
    "\u02c6": "^",  # modifier letter circumflex accent
    "\u02dc": "~",  # small tilde
    # Spaces.
    "\t": _SPACE,  # character tabulation
    "\u00a0": _SPACE,  # no-break space
    "\u2000": _SPACE,  # en quad
    "\u2001": _SPACE,  # em quad
    "\u2002": _SPACE,  # en space
    "\u2003": _SPACE,  # em space
    "\u2004": _SPACE,  # three-per-em space
    "\u2005": _SPACE,  # four-per-em space
    "\u2006": _SPACE,  # six-per-em space
    "\u2007": _SPACE,  # figure space
    "\u2008": _SPACE,  # punctuation space
    "\u2009": _SPACE,  # thin space
    "\u200a": _SPACE,  # hair space
    "\u202f": _SPACE,  # narrow no-break space
    "\u205f": _SPACE,  # medium mathematical space
    "\u3000": _SPACE,  # ideographic space
    # Line breaks.
    "\u0085": "\n",  # next line
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    # Invisible characters, dropped. ZWJ/ZWNJ stay: emoji sequences and scripts need them.
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero width no-break space (byte order mark)
}
"""Unicode look-alikes and their GSM-7 stand-ins (the request's smart encoding).

Letters are deliberately absent: stripping accents (``á`` → ``a``) changes spelling, which
is the sender's call, not the gateway's.
"""

_SMART_TABLE: dict[int, str] = {ord(ch): repl for ch, repl in SMART_REPLACEMENTS.items()}


@dataclass(frozen=True)
class EncodedText:
    """How a message body goes out as SMS, with the values the message resource reports."""

    text: str
    """The text actually sent, after any smart-encoding replacements."""
    encoding: Encoding
    parts: int
    num_chars: int
    """Characters of ``text`` (Python code points), as a user would count them."""
    smart_encoding_applied: bool


def apply_smart_encoding(text: str) -> str:
    """Replace Unicode look-alikes in ``text`` with their GSM-7 stand-ins."""
    return text.translate(_SMART_TABLE)


def analyze(text: str, mode: EncodingMode = "auto", smart: bool = True) -> EncodedText:
    """Decide the text to send, its encoding and its segment count, the way Telnyx does.

    * ``auto``: smart-encode when ``smart`` (the profile's ``smart_encoding``), then GSM-7 if
      every character fits, else UCS-2. As Telnyx documents, replacements are kept even when
      the text still ends up UCS-2.
    * ``gsm7``: smart encoding always applies (Telnyx: "Smart encoding is applied"), then
      :class:`UnencodableText` is raised for the first character still outside GSM-7 (its
      index is into ``text`` as submitted); the API turns that into a 400. ``smart`` is
      ignored.
    * ``ucs2``: the text is sent unchanged as UCS-2; ``smart`` is ignored.

    Empty text (an MMS without a body, say) reports one GSM-7 part, since Telnyx's ``parts``
    ranges over 1..10 and an empty SMS is still one submission.
    """
    if mode == "ucs2":
        sent = text
        encoding: Encoding = "UCS-2"
    elif mode == "gsm7":
        _check_gsm7_after_smart(text)
        sent = apply_smart_encoding(text)
        encoding = "GSM-7"
    elif mode == "auto":
        sent = apply_smart_encoding(text) if smart else text
        encoding = "GSM-7" if is_gsm7(sent) else "UCS-2"
    else:
        raise ValueError(f"unknown encoding mode {mode!r}")
    return EncodedText(
        text=sent,
        encoding=encoding,
        parts=len(split_segments(sent, encoding)),
        num_chars=len(sent),
        smart_encoding_applied=sent != text,
    )


def _check_gsm7_after_smart(text: str) -> None:
    # Every replacement is GSM-7, so only characters without one can fail; checking the
    # original text lets the error point at the user's own character position.
    for index, ch in enumerate(text):
        if ch not in SMART_REPLACEMENTS and not is_gsm7(ch):
            raise UnencodableText(ch, index)


def split_segments(text: str, encoding: Encoding) -> list[str]:
    """Split ``text`` into the bodies of a concatenated SMS, one string per segment.

    A text within the single-message limit is returned whole. Otherwise segments are filled
    greedily up to the concatenated limit, never splitting a GSM-7 escape pair or a UTF-16
    surrogate pair, so a segment may fall one unit short. Empty text gives ``[""]``.
    GSM-7 text must be encodable; otherwise :class:`UnencodableText` is raised.
    """
    if encoding == "GSM-7":
        if gsm7_length(text) <= GSM7_SINGLE_SEPTETS:
            return [text]
        return _split(text, GSM7_SEGMENT_SEPTETS, _gsm7_cost)
    if encoding == "UCS-2":
        if _utf16_units(text) <= UCS2_SINGLE_UNITS:
            return [text]
        return _split(text, UCS2_SEGMENT_UNITS, _utf16_cost)
    raise ValueError(f"unknown encoding {encoding!r}")


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENDED else 1


def _utf16_cost(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _utf16_units(text: str) -> int:
    return sum(map(_utf16_cost, text))


def _split(text: str, limit: int, cost: Callable[[str], int]) -> list[str]:
    segments: list[str] = []
    start = 0
    used = 0
    for index, ch in enumerate(text):
        units = cost(ch)
        if used + units > limit:
            segments.append(text[start:index])
            start = index
            used = 0
        used += units
    segments.append(text[start:])
    return segments
