"""The SMPP carrier: binds, round-robin submission, receipts and MO, per the Carrier protocol.

`submit()` returns once every part of the message has a submit_sm_resp. Parts that hit a
full window wait (backpressure); parts refused with ESME_RTHROTTLED / ESME_RMSGQFUL pause
every bind and are resubmitted; parts whose session died or timed out are resubmitted on
another bind (at-least-once, as SMPP itself is). Only when `submit_timeout` runs out does
the message go back to the caller as a temporary refusal with `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from switchboard.carriers.base import (
    Accepted,
    CarrierEvents,
    DeliveryReport,
    MobileOriginated,
    OutboundSubmission,
    Refused,
    SubmitResult,
)
from switchboard.carriers.smpp import message_ids
from switchboard.carriers.smpp.backoff import Backoff
from switchboard.carriers.smpp.coding import decode_units
from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.constants import Status, status_name
from switchboard.carriers.smpp.errors import PduError, ResponseTimeout, SessionClosed
from switchboard.carriers.smpp.inbound import parse_mo
from switchboard.carriers.smpp.link import BindLink
from switchboard.carriers.smpp.outbound import MappingError, References, build_submits
from switchboard.carriers.smpp.pdu import Body, DataSm, MessageIdResp, Pdu, ShortMessage
from switchboard.carriers.smpp.reassembly import Assembled, Reassembler
from switchboard.carriers.smpp.receipts import is_receipt, outcome, parse_receipt
from switchboard.carriers.smpp.session import MalformedResponse, Role, Session
from switchboard.carriers.smpp.status import BindStatus, CarrierStatus, Counters
from switchboard.carriers.smpp.throttle import TokenBucket
from switchboard.carriers.smpp.tracking import PartTracker, Ready

log = logging.getLogger(__name__)

_HOUSEKEEPING_INTERVAL = 0.25
_EMPTY_ID = MessageIdResp("")  # deliver_sm_resp / data_sm_resp carry an empty message_id
_MAX_UNREPORTED = 10_000

# submit_sm_resp statuses that refuse a message for good, as Telnyx codes.
_REFUSALS: dict[int, str] = {
    Status.ESME_RINVDSTADR: "40012",
    Status.ESME_RINVDSTTON: "40012",
    Status.ESME_RINVDSTNPI: "40012",
    Status.ESME_RINVSRCADR: "40013",
    Status.ESME_RINVSRCTON: "40013",
    Status.ESME_RINVSRCNPI: "40013",
    Status.ESME_RINVMSGLEN: "40009",
    Status.ESME_RINVESMCLASS: "40009",
    Status.ESME_RINVOPTPARAMVAL: "40009",
    Status.ESME_RINVEXPIRY: "40009",
    Status.ESME_RSUBMITFAIL: "40004",
}
_SLOW_DOWN = (Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL)
_TRY_LATER = (Status.ESME_RSYSERR, Status.ESME_RX_T_APPN, Status.ESME_RDELIVERYFAILURE)


class SmppCarrier:
    """A carrier reached over SMPP 3.4 (see docs/smpp.md)."""

    def __init__(self, config: SmppCarrierConfig) -> None:
        self.name = config.name
        self.config = config
        self.counters = Counters()
        self._events: CarrierEvents | None = None
        self._links: list[BindLink] = []
        self._rr = 0
        self._bound = asyncio.Event()
        self._bucket = TokenBucket(config.throughput)
        self._slowdown = Backoff(config.throttle_backoff_min, config.throttle_backoff_max)
        self._references = References()
        self._tracker = PartTracker(config.receipt_hold)
        self._reassembler = Reassembler(config.mo_reassembly_timeout)
        self._unreported: OrderedDict[str, Ready] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, events: CarrierEvents) -> None:
        """Start every bind; return once each has tried once (bound or not).

        A bind that failed keeps retrying in the background with backoff, so a carrier
        that is down at start-up does not stop the platform from starting.
        """
        self._events = events
        self._stopping = False
        self._links = []
        roles: list[tuple[Role, str]]
        if self.config.bind_mode == "transceiver":
            roles = [("transceiver", "trx")]
        else:
            roles = [("transmitter", "tx"), ("receiver", "rx")]
        for index in range(1, self.config.binds + 1):
            for role, prefix in roles:
                link = BindLink(
                    self.config,
                    role,
                    self._on_request,
                    label=f"{self.name}/{prefix}-{index}",
                    on_bound=self._bound.set,
                )
                self._links.append(link)
                link.start()
        self._spawn(self._housekeeping())
        waits = [link.wait_first_attempt() for link in self._links]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*waits), self.config.connect_timeout + self.config.response_timeout
            )

    async def stop(self) -> None:
        """Let submissions in flight finish (bounded), then unbind every session."""
        self._stopping = True
        self._bound.set()  # wake submissions waiting for a bind: they give up now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.config.response_timeout)
        await asyncio.gather(*(link.stop() for link in self._links), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def restore(self, carrier_message_id: str) -> None:
        """Re-register a message accepted before a restart (its persisted carrier id), so
        its parts' receipts are joined again instead of reported one by one."""
        self._tracker.restore(carrier_message_id)

    # --- submission ------------------------------------------------------------------

    async def submit(self, submission: OutboundSubmission) -> SubmitResult:
        if self._events is None or self._stopping:
            return Refused("40006", f"carrier {self.name} is not running", self.config.retry_after)
        try:
            bodies = build_submits(submission, self.config, self._references)
        except MappingError as exc:
            self.counters.failed += 1
            return Refused(exc.code, exc.detail)
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._submit_parts(bodies)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _submit_parts(self, bodies: list[ShortMessage]) -> SubmitResult:
        group = self._tracker.open(len(bodies))
        deadline = asyncio.get_running_loop().time() + self.config.submit_timeout
        for index, body in enumerate(bodies):
            result = await self._submit_part(body, deadline)
            if isinstance(result, Refused):
                self._tracker.abandon(group)
                return result
            self._tracker.add_part(group, index, result)
        ready = self._tracker.seal(group)
        if ready is not None:
            # Decided before the caller even knows the id: report right after we return.
            self._spawn(self._report(ready))
        assert group.carrier_message_id is not None
        return Accepted(group.carrier_message_id)

    async def _submit_part(self, body: ShortMessage, deadline: float) -> str | Refused:
        loop = asyncio.get_running_loop()
        code, reason = "40006", "no bind is up"
        while (remaining := deadline - loop.time()) > 0:
            if self._stopping:
                return Refused("40006", f"carrier {self.name} is stopping", self.config.retry_after)
            session = await self._pick_session(remaining)
            if session is None:
                continue
            if not self._bucket.try_acquire():
                try:
                    await asyncio.wait_for(self._bucket.acquire(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    continue
            try:
                resp = await session.submit(body)
            except (ResponseTimeout, MalformedResponse) as exc:
                self.counters.submitted += 1
                self.counters.timeouts += 1
                code, reason = "40006", str(exc)
                continue
            except SessionClosed as exc:  # whether it left is unknown: resubmit anyway
                code, reason = "40006", str(exc)
                await asyncio.sleep(0)
                continue
            except PduError as exc:  # our own encoding refused the message
                self.counters.failed += 1
                return Refused("40009", exc.detail)
            self.counters.submitted += 1
            status = resp.command_status
            if status == Status.ESME_ROK:
                self.counters.acked += 1
                self._slowdown.reset()
                raw = resp.body.message_id if isinstance(resp.body, MessageIdResp) else ""
                return message_ids.from_response(raw, self.config)
            if status in _SLOW_DOWN:
                self.counters.throttled += 1
                self._bucket.pause(self._slowdown.next())
                code, reason = "40011", f"SMSC says {status_name(status)}"
                continue
            if status == Status.ESME_RINVBNDSTS:
                session.abort("SMSC says the session is not bound")
                continue
            self.counters.failed += 1
            if status in _TRY_LATER:
                return Refused(
                    "40006", f"SMSC error {status_name(status)}", self.config.retry_after
                )
            return Refused(
                _REFUSALS.get(status, "40008"), f"submit_sm refused: {status_name(status)}"
            )
        return Refused(
            code,
            f"not sent within {self.config.submit_timeout}s: {reason}",
            self.config.retry_after,
        )

    async def _pick_session(self, timeout: float) -> Session | None:
        """Next bound session round-robin, preferring one with room in its window."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            sessions = [
                s for link in self._links if (s := link.bound_session) is not None and s.can_submit
            ]
            if self._stopping:
                return None
            if sessions:
                start = self._rr % len(sessions)
                self._rr = start + 1
                for offset in range(len(sessions)):
                    candidate = sessions[(start + offset) % len(sessions)]
                    if candidate.window_free > 0:
                        return candidate
                return sessions[start]
            self._bound.clear()
            try:
                await asyncio.wait_for(self._bound.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return None

    # --- receipts and MO -------------------------------------------------------------

    async def _on_request(self, pdu: Pdu) -> tuple[int, Body | None]:
        body = pdu.body
        if not isinstance(body, ShortMessage | DataSm):
            return Status.ESME_RINVCMDID, None
        if is_receipt(body.esm_class):
            return await self._on_receipt(body)
        return await self._on_mobile_originated(body)

    async def _on_receipt(self, body: ShortMessage | DataSm) -> tuple[int, Body | None]:
        receipt = parse_receipt(body, self.config)
        if receipt is None:
            log.warning("%s: receipt without a message id: %r", self.name, body)
            return Status.ESME_ROK, None  # refusing it would only make the SMSC resend it
        self.counters.receipts += 1
        retry = self._unreported.pop(receipt.carrier_message_id, None)
        if retry is not None:
            return await self._report_or_park(receipt.carrier_message_id, retry)
        result = outcome(receipt, self.config)
        if result is None:
            return Status.ESME_ROK, None  # ACCEPTD / ENROUTE: not final, wait for more
        ready = self._tracker.on_receipt(receipt.carrier_message_id, result, receipt.done_date)
        if ready is None:
            return Status.ESME_ROK, None
        return await self._report_or_park(receipt.carrier_message_id, ready)

    async def _report_or_park(self, part_id: str, ready: Ready) -> tuple[int, Body | None]:
        """Hand a report over; if that fails, keep it so the SMSC's resend can retry it."""
        try:
            await self._report(ready, raise_errors=True)
        except Exception:
            log.exception("%s: delivery report for %s not taken", self.name, part_id)
            self._unreported[part_id] = ready
            while len(self._unreported) > _MAX_UNREPORTED:
                self._unreported.popitem(last=False)
            return Status.ESME_RX_T_APPN, None
        return Status.ESME_ROK, None

    async def _report(self, ready: Ready, *, raise_errors: bool = False) -> None:
        assert self._events is not None
        report = DeliveryReport(
            carrier=self.name,
            carrier_message_id=ready.carrier_message_id,
            status=ready.outcome.status,
            error_code=ready.outcome.error_code,
            error_detail=ready.outcome.error_detail,
            occurred_at=ready.occurred_at or datetime.now(UTC),
        )
        try:
            await self._events.delivery_report(report)
        except Exception:
            if raise_errors:
                raise
            log.exception("%s: delivery report for %s lost", self.name, report.carrier_message_id)
            return
        self.counters.reports += 1

    async def _on_mobile_originated(self, body: ShortMessage | DataSm) -> tuple[int, Body | None]:
        part = parse_mo(body, self.config.gsm7_packed)
        if part.concat is None:
            text = decode_units(part.units, part.data_coding)
            await self._deliver_mo(part.source, part.destination, text)
        else:
            kind, reference, total, sequence = part.concat
            key = (part.source, part.destination, kind, reference, total)
            assembled = self._reassembler.add(key, sequence, part.units, part.data_coding)
            if assembled is not None:
                await self._deliver_assembled(assembled)
                self._reassembler.discard(key)
        return Status.ESME_ROK, _EMPTY_ID

    async def _deliver_assembled(self, assembled: Assembled) -> None:
        source, destination = assembled.key[0], assembled.key[1]
        text = decode_units(assembled.units, assembled.data_coding)
        await self._deliver_mo(source, destination, text)

    async def _deliver_mo(self, source: str, destination: str, text: str) -> None:
        assert self._events is not None
        await self._events.mobile_originated(
            MobileOriginated(
                carrier=self.name,
                from_=source,
                to=destination,
                text=text,
                received_at=datetime.now(UTC),
            )
        )
        self.counters.mo += 1

    # --- housekeeping ----------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Release receipts that waited long enough, and MO whose parts stopped coming."""
        while True:
            await asyncio.sleep(_HOUSEKEEPING_INTERVAL)
            for ready in self._tracker.expire_held():
                await self._report(ready)
            for assembled in self._reassembler.expire():
                log.warning("%s: MO %s released incomplete", self.name, assembled.key)
                try:
                    await self._deliver_assembled(assembled)
                except Exception:
                    log.exception("%s: incomplete MO %s lost", self.name, assembled.key)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- status ----------------------------------------------------------------------

    def status(self) -> CarrierStatus:
        binds = []
        for link in self._links:
            session = link.session
            binds.append(
                BindStatus(
                    label=link.label,
                    role=link.role,
                    state=link.state,
                    window_used=session.outstanding if session else 0,
                    window_size=self.config.window,
                    binds=link.binds,
                    bound_since=link.bound_since,
                    last_error=link.last_error,
                    submitted=link.submitted,
                    acked=link.acked,
                )
            )
        return CarrierStatus(
            name=self.name,
            host=self.config.host,
            port=self.config.port,
            bind_mode=self.config.bind_mode,
            binds=tuple(binds),
            counters=Counters(**vars(self.counters)),
            throttled_for=self._bucket.paused_for,
            parts_tracked=self._tracker.open_groups,
            receipts_held=self._tracker.held_receipts,
            mo_pending=self._reassembler.pending,
        )


if TYPE_CHECKING:
    from switchboard.carriers.base import Carrier

    _check: type[Carrier] = SmppCarrier
