"""Exceptions of the SMPP layer, each carrying what the peer should be told."""

from __future__ import annotations

from switchboard.carriers.smpp.constants import Status, status_name


class SmppError(Exception):
    """Base of every error raised by the SMPP connector."""


class PduError(SmppError):
    """A PDU that cannot be encoded or decoded.

    `status` is the command_status to answer the peer with. `header_error` marks problems
    with the header itself (length, unknown command): those are answered with generic_nack;
    body problems in a known request are answered with that request's own response.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        command_id: int | None = None,
        sequence_number: int | None = None,
        header_error: bool = False,
    ) -> None:
        super().__init__(f"{status_name(status)}: {detail}")
        self.status = status
        self.detail = detail
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.header_error = header_error


class FramingError(SmppError):
    """The byte stream can no longer be split into PDUs; the connection must be dropped.

    `sequence_number` is set when the header could still be read, so a generic_nack can be
    sent before closing.
    """

    def __init__(self, detail: str, sequence_number: int | None = None) -> None:
        super().__init__(detail)
        self.sequence_number = sequence_number
        self.status = Status.ESME_RINVCMDLEN


class SessionClosed(SmppError):
    """The session ended (peer gone, unbound, or shut down) before the request was answered."""


class ResponseTimeout(SmppError):
    """The peer did not answer a request within the response timeout."""


class BindRefused(SmppError):
    """The SMSC answered the bind with an error status (credentials, system type...)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"bind refused: {status_name(status)}")
        self.status = status
