"""Cutting the TCP byte stream into PDU frames, with command_length bounds.

A frame is trusted only by its length: one below the header size or above the limit means the
stream cannot be resynchronised, so the caller drops the connection.
"""

from __future__ import annotations

import asyncio

from switchboard.carriers.smpp.constants import HEADER_LENGTH
from switchboard.carriers.smpp.errors import FramingError, SessionClosed


async def read_frame(reader: asyncio.StreamReader, max_length: int) -> bytes:
    """Read exactly one PDU; raise SessionClosed at end of stream, FramingError if lost."""
    try:
        head = await reader.readexactly(4)
    except asyncio.IncompleteReadError as exc:
        raise SessionClosed("connection closed by peer") from exc
    length = int.from_bytes(head, "big")
    if length < HEADER_LENGTH:
        raise FramingError(f"command_length {length} is shorter than a header")
    if length > max_length:
        sequence = await _peek_sequence(reader)
        raise FramingError(f"command_length {length} exceeds {max_length}", sequence)
    try:
        rest = await reader.readexactly(length - 4)
    except asyncio.IncompleteReadError as exc:
        raise SessionClosed("connection closed in the middle of a PDU") from exc
    return head + rest


async def _peek_sequence(reader: asyncio.StreamReader) -> int | None:
    """Read the rest of the header of an oversize PDU, so its generic_nack can quote it."""
    try:
        rest = await asyncio.wait_for(reader.readexactly(HEADER_LENGTH - 4), timeout=1.0)
    except (asyncio.IncompleteReadError, TimeoutError):
        return None
    return int.from_bytes(rest[8:12], "big")
