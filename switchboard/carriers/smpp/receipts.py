"""Delivery receipts: the Appendix B text, the receipt TLVs, and what they mean for us."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from switchboard.carriers.base import FinalStatus
from switchboard.carriers.smpp import message_ids, tlv
from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.constants import EsmClass, MessageState, Tag
from switchboard.carriers.smpp.pdu import DataSm, ShortMessage
from switchboard.carriers.smpp.smpp_time import parse_receipt_date

_KEY = re.compile(r"(?i)(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:")


def is_receipt(esm_class: int) -> bool:
    """SMSC delivery receipt, or an intermediate notification (handled like a receipt)."""
    kind = esm_class & EsmClass.MESSAGE_TYPE_MASK
    return kind in (EsmClass.DELIVERY_RECEIPT, EsmClass.INTERMEDIATE_NOTIFICATION)


@dataclass(frozen=True)
class Receipt:
    carrier_message_id: str
    """Canonical id (see message_ids), preferring receipted_message_id over the text."""
    stat: str | None
    err: str | None
    message_state: int | None
    network_error: bytes | None
    done_date: datetime | None
    text: str


def parse_fields(text: str) -> dict[str, str]:
    """Key/value pairs of a receipt text; keys lower-case with '_' for spaces."""
    matches = list(_KEY.finditer(text))
    values: dict[str, str] = {}
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace(" ", "_")
        if key == "text":  # always last: whatever follows is the message's own text
            values.setdefault(key, text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        values.setdefault(key, text[match.end() : end].strip())
    return values


def parse_receipt(body: ShortMessage | DataSm, config: SmppCarrierConfig) -> Receipt | None:
    """Read a receipt PDU; None when it names no message at all."""
    raw = tlv.find(body.tlvs, Tag.MESSAGE_PAYLOAD)
    if raw is None and isinstance(body, ShortMessage):
        raw = body.short_message
    text = (raw or b"").decode("latin-1")
    values = parse_fields(text)
    tlv_id = tlv.get_cstring(body.tlvs, Tag.RECEIPTED_MESSAGE_ID)
    if tlv_id:
        carrier_id = message_ids.from_response(tlv_id, config)
    elif values.get("id"):
        carrier_id = message_ids.from_receipt_text(values["id"], config)
    else:
        return None
    return Receipt(
        carrier_message_id=carrier_id,
        stat=values.get("stat") or None,
        err=values.get("err") or None,
        message_state=tlv.get_int(body.tlvs, Tag.MESSAGE_STATE),
        network_error=tlv.find(body.tlvs, Tag.NETWORK_ERROR_CODE),
        done_date=parse_receipt_date(values.get("done_date", "")),
        text=text,
    )


@dataclass(frozen=True)
class Outcome:
    """A receipt translated into the platform's terms."""

    status: FinalStatus
    error_code: str | None
    error_detail: str | None


_STATE_NAMES = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}

# Keyed by the first five letters, so "DELIVERED" and "DELIVRD" read alike.
_FINAL: dict[str, tuple[FinalStatus, str | None]] = {
    "DELIV": ("delivered", None),
    "UNDEL": ("delivery_failed", "40008"),
    "EXPIR": ("expired", "40005"),
    "REJEC": ("delivery_failed", "40004"),
    "DELET": ("delivery_failed", "40008"),
    "FAILE": ("delivery_failed", "40008"),
    "UNKNO": ("delivery_unconfirmed", None),
}

# GSM MAP errors (network_error_code type 3) that say the number itself is wrong.
_GSM_INVALID_DESTINATION = {1, 5, 9}
_GSM_NOT_PROVISIONED = 11


def stat_of(receipt: Receipt) -> str:
    """The receipt's state word; the message_state TLV wins over the text."""
    if receipt.message_state is not None and receipt.message_state in _STATE_NAMES:
        return _STATE_NAMES[MessageState(receipt.message_state)]
    return (receipt.stat or "UNKNOWN").upper()


def outcome(receipt: Receipt, config: SmppCarrierConfig) -> Outcome | None:
    """The final status a receipt reports, or None for ACCEPTD/ENROUTE (not final)."""
    stat = stat_of(receipt)
    final = _FINAL.get(stat[:5])
    if final is None:
        return None
    status, code = final
    detail_parts = [f"stat:{stat}"]
    if receipt.err is not None:
        detail_parts.append(f"err:{receipt.err}")
    if receipt.network_error is not None and len(receipt.network_error) == 3:
        kind = receipt.network_error[0]
        number = int.from_bytes(receipt.network_error[1:], "big")
        detail_parts.append(f"network_error:{kind}/{number}")
        if status == "delivery_failed" and kind == 3:
            if number in _GSM_INVALID_DESTINATION:
                code = "40012"
            elif number == _GSM_NOT_PROVISIONED:
                code = "40001"
    if status != "delivered" and receipt.err is not None:
        override = config.error_codes.get(receipt.err) or config.error_codes.get(
            receipt.err.lstrip("0") or "0"
        )
        if override:
            code = override
    detail = " ".join(detail_parts) if status != "delivered" else None
    return Outcome(status, code, detail)
