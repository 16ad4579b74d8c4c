"""An OutboundSubmission turned into the submit_sm bodies that carry it."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

from switchboard.carriers.base import OutboundSubmission
from switchboard.carriers.smpp import tlv
from switchboard.carriers.smpp.addressing import (
    AddressError,
    destination_address,
    source_address,
)
from switchboard.carriers.smpp.coding import EncodedText, encode_text, pack
from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.constants import EsmClass, Tag
from switchboard.carriers.smpp.pdu import ShortMessage
from switchboard.carriers.smpp.smpp_time import format_absolute
from switchboard.carriers.smpp.udh import concat_udh


class MappingError(ValueError):
    """A submission this carrier cannot send at all; `code` is the Telnyx error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class References:
    """Concatenation references: 8-bit for UDH, 16-bit for SAR, cycling per carrier."""

    def __init__(self, start: int = 0) -> None:
        self._counter = itertools.count(start)

    def next(self, bits: int) -> int:
        return next(self._counter) % (1 << bits)


def build_submits(
    submission: OutboundSubmission,
    config: SmppCarrierConfig,
    references: References,
    now: datetime | None = None,
) -> list[ShortMessage]:
    """The submit_sm bodies for one submission, in the order they must be sent."""
    if submission.message_type != "SMS":
        raise MappingError("40009", f"SMPP carries SMS only, not {submission.message_type}")
    try:
        source = source_address(submission.sender, submission.sender_type, config)
    except AddressError as exc:
        raise MappingError("40013", str(exc)) from exc
    try:
        destination = destination_address(submission.to, config)
    except AddressError as exc:
        raise MappingError("40012", str(exc)) from exc
    validity = ""
    if submission.valid_until is not None:
        valid_until = submission.valid_until
        if valid_until.tzinfo is None:
            valid_until = valid_until.replace(tzinfo=UTC)
        if valid_until <= (now or datetime.now(UTC)):
            raise MappingError("40014", "valid_until passed before the message was sent")
        validity = format_absolute(valid_until)
    encoded = encode_text(submission.text, submission.encoding, config.default_data_coding)
    packed = config.gsm7_packed and encoded.is_gsm7
    base = ShortMessage(
        service_type=config.service_type,
        source_addr_ton=source.ton,
        source_addr_npi=source.npi,
        source_addr=source.addr,
        dest_addr_ton=destination.ton,
        dest_addr_npi=destination.npi,
        destination_addr=destination.addr,
        validity_period=validity,
        registered_delivery=1,
        data_coding=encoded.data_coding,
    )
    if len(encoded.segments) == 1:
        segment = encoded.segments[0]
        return [replace(base, short_message=pack(segment) if packed else segment)]
    return _long_message(base, encoded, packed, config, references)


def _long_message(
    base: ShortMessage,
    encoded: EncodedText,
    packed: bool,
    config: SmppCarrierConfig,
    references: References,
) -> list[ShortMessage]:
    total = len(encoded.segments)
    mode = config.long_message_mode
    if mode == "payload":
        whole = pack(encoded.whole) if packed else encoded.whole
        return [replace(base, tlvs=(tlv.Tlv(Tag.MESSAGE_PAYLOAD, whole),))]
    if total > 255:
        raise MappingError("40009", f"{total} segments cannot be concatenated")
    if mode == "udh":
        reference = references.next(8)
        bodies = []
        for seq, segment in enumerate(encoded.segments, start=1):
            udh = concat_udh(reference, total, seq)
            text = pack(segment, len(udh)) if packed else segment
            bodies.append(replace(base, esm_class=EsmClass.UDHI, short_message=udh + text))
        return bodies
    reference = references.next(16)
    return [
        replace(
            base,
            short_message=pack(segment) if packed else segment,
            tlvs=(
                tlv.u16(Tag.SAR_MSG_REF_NUM, reference),
                tlv.u8(Tag.SAR_TOTAL_SEGMENTS, total),
                tlv.u8(Tag.SAR_SEGMENT_SEQNUM, seq),
            ),
        )
        for seq, segment in enumerate(encoded.segments, start=1)
    ]
