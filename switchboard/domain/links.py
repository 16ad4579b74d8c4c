"""Link shortening: which links in a text are rewritten, and the rewriting itself.

A link is an `http://` or `https://` URL up to the next whitespace, quote or angle bracket,
without trailing punctuation (`.`, `,`, `)`, …) that ends the sentence around it.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Public URL shorteners (`replace_blacklist_only` rewrites only links on these).
PUBLIC_SHORTENERS = (
    "bit.do",
    "bit.ly",
    "goo.gl",
    "ht.ly",
    "is.gd",
    "ow.ly",
    "rebrand.ly",
    "t.co",
    "tiny.cc",
    "tinyurl.com",
)

CODE_LENGTH = 8
_ALPHABET = string.ascii_letters + string.digits
_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class Replaced:
    code: str
    url: str


def new_code() -> str:
    """A random short-link code: 8 letters and digits (47 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def is_public_shortener(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in PUBLIC_SHORTENERS)


def clean_prefix(prefix: str | None) -> str | None:
    """The profile's brand prefix if it can sit in a URL path as is; otherwise none."""
    return prefix if prefix and _PREFIX.match(prefix) else None


def rewrite(
    text: str,
    short_url: Callable[[str], str],
    *,
    blacklist_only: bool = False,
    keep: Callable[[str], bool] = lambda _url: False,
) -> tuple[str, list[Replaced]]:
    """`text` with its links replaced by `short_url(code)`, and what each code stands for.

    `keep(url)` true leaves a link alone (e.g. one that is already a short link).
    """
    replaced: list[Replaced] = []

    def substitute(match: re.Match[str]) -> str:
        link = match.group(0)
        url = link.rstrip(_TRAILING)
        tail = link[len(url) :]
        if url.count("(") > url.count(")") and tail.startswith(")"):  # (see https://x.y/a_(b))
            url, tail = url + ")", tail[1:]
        host = urlsplit(url).hostname
        if not host or keep(url) or (blacklist_only and not is_public_shortener(url)):
            return link
        code = new_code()
        replaced.append(Replaced(code, url))
        return short_url(code) + tail

    return _LINK.sub(substitute, text), replaced
