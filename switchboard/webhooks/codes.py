"""Numeric codes for failed webhook attempts (`attempts[].errors` is a list of integers).

Telnyx does not publish its catalogue; these are Switchboard's, listed in docs/webhooks.md.
"""

from __future__ import annotations

from switchboard.webhooks.client import AttemptResult, ErrorKind

ATTEMPT_ERROR_CODES: dict[ErrorKind, int] = {
    "http_status": 75001,
    "timeout": 75002,
    "connection_refused": 75003,
    "connection_reset": 75004,
    "dns_error": 75005,
    "tls_error": 75006,
    "redirect_not_followed": 75007,
    "ssrf_blocked": 75008,
    "invalid_url": 75009,
    "protocol_error": 75010,
    "connection_error": 75011,
}


def error_codes(result: AttemptResult) -> list[int]:
    """`[]` for a delivered attempt, else the one code for what went wrong."""
    if result.ok or result.error is None:
        return []
    return [ATTEMPT_ERROR_CODES.get(result.error, 75011)]
