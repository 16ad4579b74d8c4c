"""One canonical form for carrier message ids, whatever base each PDU writes them in.

Many SMSCs answer submit_sm with a hex id and quote it in decimal in the receipt text (SMPP
3.4 Appendix B asks for decimal there). With a numeric format configured, ids are compared
and reported as plain decimal without leading zeros; with "string" they are used verbatim.
"""

from __future__ import annotations

from switchboard.carriers.smpp.config import SmppCarrierConfig


def normalize(raw: str, fmt: str) -> str:
    raw = raw.strip()
    if fmt not in ("hex", "decimal"):
        return raw
    try:
        return str(int(raw, 16 if fmt == "hex" else 10))
    except ValueError:
        return raw  # not numeric after all: keep it rather than lose the receipt


def from_response(raw: str, config: SmppCarrierConfig) -> str:
    """The id of a submit_sm_resp (and of a receipted_message_id TLV)."""
    return normalize(raw, config.message_id_format)


def from_receipt_text(raw: str, config: SmppCarrierConfig) -> str:
    fmt = config.receipt_id_format
    return normalize(raw, config.message_id_format if fmt == "same" else fmt)
