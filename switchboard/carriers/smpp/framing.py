"""Cutting the TCP byte stream into PDU frames, with command_length bounds.

A frame is trusted only by its length: one below the header size or above the limit means the
stream cannot be resynchronised, so the caller drops the connection.
"""

from __future__ import annotations

import asyncio

from switchboard.carriers.smpp.constants import HEADER_LENGTH
from switchboard.carriers.smpp.errors import FramingError, SessionClosed

_CHUNK = 1 << 16  # bytes asked of the socket at once
_PEEK_TIMEOUT = 1.0  # seconds to wait for the rest of an oversize PDU's header


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
        rest = await asyncio.wait_for(reader.readexactly(HEADER_LENGTH - 4), timeout=_PEEK_TIMEOUT)
    except (asyncio.IncompleteReadError, TimeoutError):
        return None
    return int.from_bytes(rest[8:12], "big")


class FrameReader:
    """`read_frame` for a busy connection: reads the socket in chunks and returns every
    complete frame a chunk holds, instead of two reads per PDU.

    The checks are `read_frame`'s, and frames that arrived before a bad length are
    returned first: the error is raised by the call that reaches it.
    """

    def __init__(self, reader: asyncio.StreamReader, max_length: int) -> None:
        self._reader = reader
        self._max_length = max_length
        self._buffer = bytearray()

    async def read(self) -> list[bytes]:
        """The next frames (at least one); SessionClosed at end of stream, FramingError if
        the framing is lost."""
        while True:
            frames = self._cut()
            if frames:
                return frames
            if len(self._buffer) >= 4:
                length = int.from_bytes(self._buffer[:4], "big")
                if length > self._max_length:
                    raise FramingError(
                        f"command_length {length} exceeds {self._max_length}",
                        await self._sequence_of_oversize(),
                    )
            data = await self._reader.read(_CHUNK)
            if not data:
                if self._buffer:
                    raise SessionClosed("connection closed in the middle of a PDU")
                raise SessionClosed("connection closed by peer")
            self._buffer += data

    def _cut(self) -> list[bytes]:
        """Complete frames at the front of the buffer, removed from it; raises FramingError
        for a length below the header size when no frame comes before it."""
        buffer = self._buffer
        frames: list[bytes] = []
        pos, end = 0, len(buffer)
        while end - pos >= 4:
            length = int.from_bytes(buffer[pos : pos + 4], "big")
            if length < HEADER_LENGTH:
                if frames:
                    break
                raise FramingError(f"command_length {length} is shorter than a header")
            if length > self._max_length or end - pos < length:
                break
            frames.append(bytes(buffer[pos : pos + length]))
            pos += length
        if pos:
            del buffer[:pos]
        return frames

    async def _sequence_of_oversize(self) -> int | None:
        """The sequence number of the oversize PDU at the front (its header's last field)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _PEEK_TIMEOUT
        while len(self._buffer) < HEADER_LENGTH:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                data = await asyncio.wait_for(self._reader.read(_CHUNK), remaining)
            except TimeoutError:
                return None
            if not data:
                return None
            self._buffer += data
        return int.from_bytes(self._buffer[12:16], "big")
