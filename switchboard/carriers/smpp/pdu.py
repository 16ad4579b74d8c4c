"""PDU codec: the bodies a gateway needs, encoded and decoded with strict length checks.

Every malformed input raises :class:`PduError` carrying the command_status to answer with, so
the session can reply and carry on instead of crashing on a peer's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from switchboard.carriers.smpp.constants import (
    HEADER_LENGTH,
    INTERFACE_VERSION,
    CommandId,
    Status,
    is_response,
)
from switchboard.carriers.smpp.errors import PduError
from switchboard.carriers.smpp.tlv import Tlv, decode_tlvs, encode_tlvs


@dataclass(frozen=True)
class Empty:
    """Body of enquire_link, unbind, their responses and generic_nack."""


@dataclass(frozen=True)
class Bind:
    """bind_transmitter / bind_receiver / bind_transceiver."""

    system_id: str
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True)
class BindResp:
    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True)
class ShortMessage:
    """submit_sm and deliver_sm share one body layout."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True)
class DataSm:
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True)
class MessageIdResp:
    """submit_sm_resp, deliver_sm_resp and data_sm_resp."""

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


Body = Empty | Bind | BindResp | ShortMessage | DataSm | MessageIdResp
EMPTY = Empty()


@dataclass(frozen=True)
class Pdu:
    command_id: int
    sequence_number: int
    command_status: int = Status.ESME_ROK
    body: Body = EMPTY

    @property
    def is_response(self) -> bool:
        return is_response(self.command_id)


# --- field layouts -------------------------------------------------------------------------

Kind = Literal["cstr", "time", "u8", "sm"]


@dataclass(frozen=True)
class _Field:
    name: str
    kind: Kind
    max_octets: int = 0  # C-octet strings: maximum size including the NUL
    status: int = Status.ESME_RINVCMDLEN  # answered when the value breaks its limit


def _c(name: str, max_octets: int, status: int) -> _Field:
    return _Field(name, "cstr", max_octets, status)


def _u8(name: str) -> _Field:
    return _Field(name, "u8")


_BIND = (
    _c("system_id", 16, Status.ESME_RINVSYSID),
    _c("password", 9, Status.ESME_RINVPASWD),
    _c("system_type", 13, Status.ESME_RINVSYSTYP),
    _u8("interface_version"),
    _u8("addr_ton"),
    _u8("addr_npi"),
    _c("address_range", 41, Status.ESME_RBINDFAIL),
)
_BIND_RESP = (_c("system_id", 16, Status.ESME_RINVSYSID),)
_SHORT_MESSAGE = (
    _c("service_type", 6, Status.ESME_RINVSERTYP),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _c("source_addr", 21, Status.ESME_RINVSRCADR),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _c("destination_addr", 21, Status.ESME_RINVDSTADR),
    _u8("esm_class"),
    _u8("protocol_id"),
    _u8("priority_flag"),
    _Field("schedule_delivery_time", "time", 17, Status.ESME_RINVSCHED),
    _Field("validity_period", "time", 17, Status.ESME_RINVEXPIRY),
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),
    _u8("data_coding"),
    _u8("sm_default_msg_id"),
    _Field("short_message", "sm", 254, Status.ESME_RINVMSGLEN),
)
_DATA_SM = (
    _c("service_type", 6, Status.ESME_RINVSERTYP),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _c("source_addr", 65, Status.ESME_RINVSRCADR),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _c("destination_addr", 65, Status.ESME_RINVDSTADR),
    _u8("esm_class"),
    _u8("registered_delivery"),
    _u8("data_coding"),
)
_MESSAGE_ID = (_c("message_id", 65, Status.ESME_RINVMSGID),)

_LAYOUTS: dict[int, tuple[type[Any], tuple[_Field, ...]]] = {
    CommandId.GENERIC_NACK: (Empty, ()),
    CommandId.BIND_RECEIVER: (Bind, _BIND),
    CommandId.BIND_TRANSMITTER: (Bind, _BIND),
    CommandId.BIND_TRANSCEIVER: (Bind, _BIND),
    CommandId.BIND_RECEIVER_RESP: (BindResp, _BIND_RESP),
    CommandId.BIND_TRANSMITTER_RESP: (BindResp, _BIND_RESP),
    CommandId.BIND_TRANSCEIVER_RESP: (BindResp, _BIND_RESP),
    CommandId.SUBMIT_SM: (ShortMessage, _SHORT_MESSAGE),
    CommandId.DELIVER_SM: (ShortMessage, _SHORT_MESSAGE),
    CommandId.SUBMIT_SM_RESP: (MessageIdResp, _MESSAGE_ID),
    CommandId.DELIVER_SM_RESP: (MessageIdResp, _MESSAGE_ID),
    CommandId.DATA_SM: (DataSm, _DATA_SM),
    CommandId.DATA_SM_RESP: (MessageIdResp, _MESSAGE_ID),
    CommandId.UNBIND: (Empty, ()),
    CommandId.UNBIND_RESP: (Empty, ()),
    CommandId.ENQUIRE_LINK: (Empty, ()),
    CommandId.ENQUIRE_LINK_RESP: (Empty, ()),
}


# Responses some SMSCs send with no body at all although SMPP 3.4 wants one; nothing is lost
# by reading them with empty defaults (a submit_sm_resp without its id is another matter).
_EMPTY_BODY_TOLERATED = {
    CommandId.BIND_RECEIVER_RESP,
    CommandId.BIND_TRANSMITTER_RESP,
    CommandId.BIND_TRANSCEIVER_RESP,
    CommandId.DELIVER_SM_RESP,
}


def known_command(command_id: int) -> bool:
    return command_id in _LAYOUTS


# --- encoding ------------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """Serialise a PDU. Responses with a non-zero status carry no body (SMPP 3.4 §4)."""
    layout = _LAYOUTS.get(pdu.command_id)
    if layout is None:
        raise PduError(Status.ESME_RINVCMDID, f"cannot encode command 0x{pdu.command_id:08X}")
    body_type, body_fields = layout
    if pdu.is_response and pdu.command_status != Status.ESME_ROK:
        body = b""
    else:
        if not isinstance(pdu.body, body_type):
            raise PduError(
                Status.ESME_RSYSERR,
                f"command 0x{pdu.command_id:08X} needs a {body_type.__name__} body",
            )
        body = _encode_body(pdu.body, body_fields)
    length = HEADER_LENGTH + len(body)
    header = b"".join(
        value.to_bytes(4, "big")
        for value in (length, pdu.command_id, pdu.command_status, pdu.sequence_number)
    )
    return header + body


def _encode_body(body: Body, layout: tuple[_Field, ...]) -> bytes:
    out = bytearray()
    for item in layout:
        value = getattr(body, item.name)
        if item.kind == "u8":
            if not 0 <= value <= 0xFF:
                raise PduError(Status.ESME_RSYSERR, f"{item.name}={value} does not fit a byte")
            out.append(value)
        elif item.kind == "sm":
            if len(value) > item.max_octets:
                raise PduError(item.status, f"short_message of {len(value)} octets")
            out.append(len(value))
            out += value
        else:
            try:
                raw = value.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise PduError(item.status, f"{item.name} is not Latin-1: {value!r}") from exc
            if b"\x00" in raw or len(raw) + 1 > item.max_octets:
                raise PduError(item.status, f"{item.name} too long or has NUL: {value!r}")
            if item.kind == "time" and len(raw) not in (0, 16):
                raise PduError(item.status, f"{item.name} is not an SMPP time: {value!r}")
            out += raw + b"\x00"
    tlvs: tuple[Tlv, ...] = getattr(body, "tlvs", ())
    out += encode_tlvs(tlvs)
    return bytes(out)


# --- decoding ------------------------------------------------------------------------------


def decode(frame: bytes) -> Pdu:
    """Parse one complete frame (as cut by the framing layer) into a PDU."""
    if len(frame) < HEADER_LENGTH:
        raise PduError(Status.ESME_RINVCMDLEN, "frame shorter than a header", header_error=True)
    length, command_id, status, sequence = (
        int.from_bytes(frame[i : i + 4], "big") for i in range(0, HEADER_LENGTH, 4)
    )
    context = {"command_id": command_id, "sequence_number": sequence}
    if length != len(frame):
        raise PduError(
            Status.ESME_RINVCMDLEN,
            f"command_length {length} but frame has {len(frame)} octets",
            header_error=True,
            **context,
        )
    layout = _LAYOUTS.get(command_id)
    if layout is None:
        raise PduError(
            Status.ESME_RINVCMDID,
            f"unknown command_id 0x{command_id:08X}",
            header_error=True,
            **context,
        )
    body_type, body_fields = layout
    data = frame[HEADER_LENGTH:]
    if (
        not data
        and is_response(command_id)
        and (status != Status.ESME_ROK or command_id in _EMPTY_BODY_TOLERATED)
    ):
        return Pdu(command_id, sequence, status, body_type(**_defaults(body_type)))
    try:
        body = _decode_body(data, body_type, body_fields)
    except PduError as exc:
        exc.command_id = command_id
        exc.sequence_number = sequence
        raise
    return Pdu(command_id, sequence, status, body)


def _defaults(body_type: type[Any]) -> dict[str, Any]:
    # Only fields without defaults need a value: Bind.system_id is the one such field.
    return {f.name: "" for f in fields(body_type) if f.name == "system_id"}


def _decode_body(data: bytes, body_type: type[Any], layout: tuple[_Field, ...]) -> Body:
    values: dict[str, Any] = {}
    offset = 0
    end = len(data)
    for item in layout:
        if offset >= end:
            raise PduError(
                Status.ESME_RINVCMDLEN, f"body ends before {item.name}", header_error=True
            )
        if item.kind == "u8":
            values[item.name] = data[offset]
            offset += 1
        elif item.kind == "sm":
            size = data[offset]
            offset += 1
            if size > item.max_octets:
                raise PduError(item.status, f"sm_length {size} over {item.max_octets}")
            if offset + size > end:
                raise PduError(
                    Status.ESME_RINVCMDLEN,
                    f"sm_length {size} runs past the PDU",
                    header_error=True,
                )
            values[item.name] = data[offset : offset + size]
            offset += size
        else:
            limit = min(end, offset + item.max_octets)
            nul = data.find(b"\x00", offset, limit)
            if nul < 0:
                if limit == end and end - offset < item.max_octets:
                    raise PduError(
                        Status.ESME_RINVCMDLEN,
                        f"{item.name} is not terminated before the PDU ends",
                        header_error=True,
                    )
                raise PduError(item.status, f"{item.name} longer than {item.max_octets - 1}")
            raw = data[offset:nul]
            if item.kind == "time" and len(raw) not in (0, 16):
                raise PduError(item.status, f"{item.name} has {len(raw)} characters")
            values[item.name] = raw.decode("latin-1")
            offset = nul + 1
    rest = data[offset:]
    if "tlvs" in {f.name for f in fields(body_type)}:
        values["tlvs"] = decode_tlvs(rest)
    elif rest:
        raise PduError(
            Status.ESME_RINVCMDLEN,
            f"{len(rest)} unexpected octets after the body",
            header_error=True,
        )
    body: Body = body_type(**values)
    return body


def response_for(request: Pdu, status: int = Status.ESME_ROK, body: Body | None = None) -> Pdu:
    """The response PDU to `request`, with an empty default body when none is given."""
    command_id = request.command_id | 0x80000000
    layout = _LAYOUTS.get(command_id)
    if layout is None:
        return Pdu(CommandId.GENERIC_NACK, request.sequence_number, status)
    if body is None:
        body_type = layout[0]
        body = body_type(**_defaults(body_type))
    return Pdu(command_id, request.sequence_number, status, body)
