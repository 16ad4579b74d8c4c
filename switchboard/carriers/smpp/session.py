"""One SMPP session: a TCP connection, its bind, the submit window and keep-alive.

The reader task owns the socket's input: it matches responses to waiting requests by
sequence number, answers the peer's requests, and turns malformed input into the right
negative response instead of an exception. Anything that loses the framing ends the session;
reconnecting is the job of :mod:`switchboard.carriers.smpp.link`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Literal

from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.constants import (
    INTERFACE_VERSION,
    MAX_SEQUENCE_NUMBER,
    CommandId,
    Status,
    is_response,
    response_id,
    status_name,
)
from switchboard.carriers.smpp.errors import (
    BindRefused,
    FramingError,
    PduError,
    ResponseTimeout,
    SessionClosed,
    SmppError,
)
from switchboard.carriers.smpp.framing import FrameReader
from switchboard.carriers.smpp.pdu import (
    EMPTY,
    Bind,
    Body,
    Pdu,
    ShortMessage,
    decode,
    encode,
    known_command,
    response_for,
)

log = logging.getLogger(__name__)

Role = Literal["transceiver", "transmitter", "receiver"]
SessionState = Literal["new", "connecting", "binding", "bound", "unbinding", "closed"]

RequestHandler = Callable[[Pdu], Awaitable[tuple[int, Body | None]]]
"""Handles deliver_sm / data_sm; returns the response status (and body, if any)."""

_BIND_COMMAND = {
    "transceiver": CommandId.BIND_TRANSCEIVER,
    "transmitter": CommandId.BIND_TRANSMITTER,
    "receiver": CommandId.BIND_RECEIVER,
}


class MalformedResponse(SmppError):
    """The peer answered a request with a PDU that could not be decoded."""


# Frames waiting in the transport beyond this make senders wait for the peer (backpressure).
_WRITE_BUFFER_HIGH = 1 << 16


def _expire(future: asyncio.Future[Pdu], command_id: int, timeout: float) -> None:
    if not future.done():
        future.set_exception(ResponseTimeout(f"no answer to 0x{command_id:08X} within {timeout}s"))


class Session:
    def __init__(
        self,
        config: SmppCarrierConfig,
        role: Role,
        handler: RequestHandler,
        *,
        label: str = "",
    ) -> None:
        self.config = config
        self.role = role
        self.label = label or role
        self.state: SessionState = "new"
        self.close_reason: str | None = None
        self.outstanding = 0
        self.submitted = 0
        self.acked = 0
        self._handler = handler
        self._window = asyncio.Semaphore(config.window)
        self._inbound = asyncio.Semaphore(config.window)  # deliver_sm handled at once
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._sequence = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._outbox: list[bytes] = []  # frames written together at the next loop turn
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()  # reader and keep-alive
        self._handlers: set[asyncio.Task[None]] = set()  # deliver_sm being handed over
        self._closed = asyncio.Event()

    # --- lifecycle -------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self.state == "bound" and not self._closed.is_set()

    @property
    def can_submit(self) -> bool:
        return self.role != "receiver"

    @property
    def window_free(self) -> int:
        return self.config.window - self.outstanding

    async def open(self) -> None:
        """Connect and bind; raises BindRefused, ResponseTimeout, SessionClosed or OSError."""
        self.state = "connecting"
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.config.host, self.config.port),
                self.config.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            self._finish(f"connect failed: {exc!r}")
            raise
        self.state = "binding"
        self._spawn(self._read_loop())
        bind = Bind(
            system_id=self.config.system_id,
            password=self.config.password.get_secret_value(),
            system_type=self.config.system_type,
            interface_version=INTERFACE_VERSION,
            address_range=self.config.address_range,
        )
        try:
            resp = await self._request(_BIND_COMMAND[self.role], bind)
        except SmppError as exc:
            self.abort(f"bind failed: {exc}")
            raise
        if resp.command_status != Status.ESME_ROK:
            self.abort(f"bind refused: {status_name(resp.command_status)}")
            raise BindRefused(resp.command_status)
        if self.closed:
            return  # bound, and already gone again: the caller sees it closed, not bound
        self.state = "bound"
        self._spawn(self._keep_alive())

    async def unbind(self) -> None:
        """Say goodbye properly: unbind, wait for unbind_resp (bounded), close."""
        if self.state == "bound":
            self.state = "unbinding"
            if self._handlers:  # answer what the SMSC already handed us, or it resends it
                await asyncio.wait(list(self._handlers), timeout=self.config.response_timeout)
            with contextlib.suppress(SmppError, OSError):
                await self._request(CommandId.UNBIND, EMPTY)
        self.abort("unbound")
        await self.wait_closed()

    def abort(self, reason: str) -> None:
        """Close the connection now; waiting requests fail with SessionClosed.

        Frames already sent (e.g. the unbind_resp before closing) still go out first.
        """
        if self._writer is not None and not self._writer.is_closing():
            self._flush()
            self._writer.close()
        self._finish(reason)

    async def wait_closed(self) -> None:
        """Wait for the end of the session, and for hand-overs already under way."""
        await self._closed.wait()
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        handlers = [t for t in self._handlers if t is not current]
        await asyncio.gather(*tasks, *handlers, return_exceptions=True)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # --- requests --------------------------------------------------------------------

    async def submit(self, body: ShortMessage) -> Pdu:
        """Send one submit_sm within the window; returns its response (any status)."""
        async with self._window_slot():
            if not self.bound:
                raise SessionClosed(f"{self.label} is {self.state}")
            self.submitted += 1
            resp = await self._request(CommandId.SUBMIT_SM, body)
            if resp.command_status == Status.ESME_ROK:
                self.acked += 1
            return resp

    @contextlib.asynccontextmanager
    async def _window_slot(self) -> AsyncIterator[None]:
        await self._window.acquire()
        self.outstanding += 1
        try:
            yield
        finally:
            self.outstanding -= 1
            self._window.release()

    async def _request(self, command_id: int, body: Body, timeout: float | None = None) -> Pdu:
        sequence = self._next_sequence()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Pdu] = loop.create_future()
        self._pending[sequence] = future
        timeout = timeout or self.config.response_timeout
        # One timer per request (asyncio.wait_for would add a future and callbacks of its own).
        timer = loop.call_later(timeout, _expire, future, command_id, timeout)
        try:
            await self._send(Pdu(command_id, sequence, Status.ESME_ROK, body))
            return await future
        finally:
            timer.cancel()
            self._pending.pop(sequence, None)

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % MAX_SEQUENCE_NUMBER + 1
        return self._sequence

    async def _send(self, pdu: Pdu) -> None:
        """Queue one PDU for the socket.

        Frames sent during one turn of the event loop go out in one write at the start of the
        next (`_flush`): a batch of submit_sm, or the deliver_sm_resp of a batch of receipts,
        costs one system call instead of one each. A write that fails closes the session, so
        a request whose frame was lost fails with SessionClosed like one never answered.
        """
        frame = encode(pdu)  # encoding errors are ours: raise before touching the socket
        writer = self._writer
        if writer is None or writer.is_closing() or self.closed:
            # Mark it closed now, so no caller picks this session again in a tight loop.
            self.abort("connection closing")
            raise SessionClosed(f"{self.label} is closed")
        self._outbox.append(frame)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        if writer.transport.get_write_buffer_size() > _WRITE_BUFFER_HIGH:
            try:
                await writer.drain()  # the peer reads slower than we write: wait for it
            except (ConnectionError, OSError) as exc:
                self.abort(f"write failed: {exc!r}")
                raise SessionClosed(str(exc)) from exc

    def _flush(self) -> None:
        self._flush_scheduled = False
        frames, self._outbox = self._outbox, []
        writer = self._writer
        if not frames or writer is None or writer.is_closing():
            return  # closing: whatever waits for an answer fails with SessionClosed
        try:
            writer.write(frames[0] if len(frames) == 1 else b"".join(frames))
        except (ConnectionError, OSError, RuntimeError) as exc:
            self.abort(f"write failed: {exc!r}")

    async def _send_quietly(self, pdu: Pdu) -> None:
        with contextlib.suppress(SessionClosed, PduError):
            await self._send(pdu)

    # --- reading ---------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        reason = "connection closed by peer"
        frames = FrameReader(self._reader, self.config.max_pdu_length)
        try:
            while True:
                for frame in await frames.read():
                    await self._dispatch(frame)
                    if self.closed:
                        return
        except FramingError as exc:
            reason = f"framing lost: {exc}"
            log.warning("%s: %s; dropping the connection", self.label, reason)
            if exc.sequence_number is not None:
                await self._send_quietly(
                    Pdu(CommandId.GENERIC_NACK, exc.sequence_number, exc.status)
                )
        except SessionClosed as exc:
            reason = str(exc)
        except (ConnectionError, OSError) as exc:
            reason = f"read failed: {exc!r}"
        finally:
            self.abort(reason)

    async def _dispatch(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except PduError as exc:
            await self._answer_malformed(exc)
            return
        if pdu.is_response:
            if (
                self.state == "binding"
                and pdu.command_id == response_id(_BIND_COMMAND[self.role])
                and pdu.command_status == Status.ESME_ROK
            ):
                # Bound from this very PDU on: the SMSC may send deliver_sm right behind it.
                self.state = "bound"
            future = self._pending.get(pdu.sequence_number)
            if future is not None and not future.done():
                future.set_result(pdu)
            else:
                log.info(
                    "%s: unexpected response 0x%08X seq %d",
                    self.label,
                    pdu.command_id,
                    pdu.sequence_number,
                )
            return
        command = pdu.command_id
        if command == CommandId.ENQUIRE_LINK:
            await self._send_quietly(response_for(pdu))
        elif command == CommandId.UNBIND:
            await self._send_quietly(response_for(pdu))
            self.abort("unbound by peer")
        elif command in (CommandId.DELIVER_SM, CommandId.DATA_SM):
            if self.role == "transmitter" or self.state not in ("bound", "unbinding"):
                await self._send_quietly(response_for(pdu, Status.ESME_RINVBNDSTS))
                return
            await self._inbound.acquire()  # bounds concurrent hand-overs: backpressure
            self._spawn(self._handle(pdu), self._handlers)
        else:
            await self._send_quietly(response_for(pdu, Status.ESME_RINVCMDID))

    async def _handle(self, pdu: Pdu) -> None:
        try:
            try:
                status, body = await self._handler(pdu)
            except Exception:
                log.exception("%s: handling 0x%08X failed", self.label, pdu.command_id)
                status, body = Status.ESME_RX_T_APPN, None
            await self._send_quietly(response_for(pdu, status, body))
        finally:
            self._inbound.release()

    async def _answer_malformed(self, exc: PduError) -> None:
        command, sequence = exc.command_id, exc.sequence_number or 0
        log.warning("%s: malformed PDU: %s", self.label, exc)
        if command is not None and is_response(command):
            future = self._pending.get(sequence)
            if future is not None and not future.done():
                future.set_exception(MalformedResponse(str(exc)))
            if command != CommandId.GENERIC_NACK:  # never nack a nack: no ping-pong
                await self._send_quietly(Pdu(CommandId.GENERIC_NACK, sequence, exc.status))
        elif exc.header_error or command is None or not known_command(response_id(command)):
            await self._send_quietly(Pdu(CommandId.GENERIC_NACK, sequence, exc.status))
        else:
            # A known request with a bad field: its own response says what was wrong.
            await self._send_quietly(Pdu(response_id(command), sequence, exc.status))

    # --- keep-alive ------------------------------------------------------------------

    async def _keep_alive(self) -> None:
        while self.bound:
            await asyncio.sleep(self.config.enquire_link_interval)
            if not self.bound:
                return
            try:
                await self._request(CommandId.ENQUIRE_LINK, EMPTY)
            except (ResponseTimeout, MalformedResponse):
                self.abort("enquire_link unanswered")
                return
            except SessionClosed:
                return

    # --- internals -------------------------------------------------------------------

    def _spawn(
        self, coro: Coroutine[Any, Any, None], group: set[asyncio.Task[None]] | None = None
    ) -> None:
        tasks = self._tasks if group is None else group
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _finish(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self.state = "closed"
        self.close_reason = reason
        self._closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SessionClosed(f"{self.label}: {reason}"))
        log.info("%s: session closed: %s", self.label, reason)
