"""The webhook sender: claims due deliveries and tries their targets, one round per claim.

Its own loop and its own HTTP client, so a slow or dead receiver never holds up message
sending. Concurrency is bounded overall and per receiving host: deliveries whose host
already has `per_host_limit` requests in flight are left queued, so one slow customer
cannot take the slots other customers' webhooks need. Attempts are recorded in batches
(`Batcher`): one transaction for every attempt that finished meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import datetime

from switchboard.domain.clock import utcnow
from switchboard.services import webhooks
from switchboard.services.runtime import Runtime
from switchboard.webhooks.client import WebhookClient
from switchboard.workers.batcher import Batcher

log = logging.getLogger(__name__)

RECOVERY_INTERVAL = 5.0  # seconds between checks for claims a dead worker left behind
MIN_IDLE = 0.05  # due rows held back (busy host, earlier event in flight) are re-checked this often
RESPONSE_CAP = 10 * 1024  # bytes of response body and headers kept per attempt


class WebhookSender:
    def __init__(self, rt: Runtime, worker_id: str, client: WebhookClient | None = None) -> None:
        self.rt = rt
        self.worker_id = worker_id
        settings = rt.settings.webhooks
        self.client = client or WebhookClient(
            allow_private=rt.settings.webhooks_allow_private,
            per_host_limit=settings.per_host_limit,
            total_limit=settings.concurrency,
            max_body_bytes=RESPONSE_CAP,
            max_header_bytes=RESPONSE_CAP,
        )
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._per_host: Counter[str] = Counter()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._last_recovery = 0.0
        # The busy hosts of the last claim that found nothing, and when it ran.
        self._fruitless: tuple[frozenset[str], float] | None = None
        self.recorder: Batcher[webhooks.Attempt, str] = Batcher(
            self._record_batch, name="webhook-attempts", max_batch=settings.concurrency
        )

    async def _record_batch(self, attempts: list[webhooks.Attempt]) -> list[str]:
        return await webhooks.record_attempts(self.rt, self.worker_id, attempts)

    async def start(self) -> None:
        released = await webhooks.release_own_claims(self.rt, self.worker_id)
        if released:
            log.warning("retrying %d webhook deliveries this worker held when it stopped", released)

    def _busy_hosts(self) -> list[str]:
        limit = self.rt.settings.webhooks.per_host_limit
        return [host for host, n in self._per_host.items() if n >= limit]

    async def run(self) -> None:
        settings = self.rt.settings.webhooks
        while not self._stopping.is_set():
            await self._recover_if_due()
            claimed: list[webhooks.Claimed] = []
            round_: webhooks.ClaimRound | None = None
            free = settings.concurrency - len(self._inflight)
            busy = self._busy_hosts()
            holding_back = free > 0 and not self._worth_claiming(busy)
            if free > 0 and not holding_back:
                self.rt.webhook_hosts_queued = set()  # what is queued from now on is new
                try:
                    round_ = await webhooks.claim(
                        self.rt, self.worker_id, min(settings.batch_size, free), busy
                    )
                    claimed = round_.claimed
                except Exception:
                    log.exception("claiming webhook deliveries failed; retrying")
                fruitless = not claimed and busy
                self._fruitless = (frozenset(busy), time.monotonic()) if fruitless else None
            for item in claimed:
                await self._slots.acquire()
                self._per_host[item.host] += 1
                task = asyncio.create_task(self._deliver(item))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if holding_back and self._fruitless is not None:
                waited = time.monotonic() - self._fruitless[1]
                await self._idle(max(MIN_IDLE, settings.poll_interval - waited))
            elif round_ is not None and round_.drained:
                await self._idle(self._sleep_until(round_.next_due_at, settings.poll_interval))
            elif len(claimed) < settings.batch_size or free <= 0:
                await self._idle(await self._sleep_for(settings.poll_interval))

    def _worth_claiming(self, busy: list[str]) -> bool:
        """False while a claim could only find what the last, fruitless one did.

        Claiming while every due delivery is for a host at its limit scans the whole queue
        and takes nothing; under load that was one claim per wake-up. Until a busy host frees
        a slot, deliveries for another host are queued, or `poll_interval` passes (retries
        come due, another process queues without saying where), claiming again is skipped.
        """
        if self._fruitless is None:
            return True
        hosts_then, at = self._fruitless
        if frozenset(busy) != hosts_then:
            return True
        if time.monotonic() - at >= self.rt.settings.webhooks.poll_interval:
            return True
        queued = self.rt.webhook_hosts_queued
        return queued is None or not queued <= hosts_then

    async def _recover_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_recovery < RECOVERY_INTERVAL:
            return
        self._last_recovery = now
        try:
            requeued = await webhooks.recover_stale(self.rt)
            if requeued:
                log.warning("retrying %d webhook deliveries abandoned by a worker", requeued)
        except Exception:
            log.exception("recovering abandoned webhook deliveries failed")

    async def _sleep_for(self, poll_interval: float) -> float:
        """Until the next pending delivery is due, at most `poll_interval`."""
        try:
            due = await webhooks.next_due_at(self.rt)
        except Exception:
            log.exception("reading the webhook queue failed")
            return poll_interval
        return self._sleep_until(due, poll_interval)

    @staticmethod
    def _sleep_until(due: datetime | None, poll_interval: float) -> float:
        if due is None:
            return poll_interval
        return max(MIN_IDLE, min(poll_interval, (due - utcnow()).total_seconds()))

    async def _idle(self, timeout: float) -> None:
        wakeup = self.rt.webhook_wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), timeout)
        wakeup.clear()

    async def _deliver(self, item: webhooks.Claimed) -> None:
        """One round: each target in order until one answers 2xx."""
        timeout = self.rt.settings.webhooks.timeout
        let_go = True  # whether the round may have let a held-back delivery go
        try:
            targets = item.targets
            for index, url in enumerate(targets):
                number = item.delivery["attempt_count"] + 1
                body = item.event.render(number, url)
                headers = item.signer.sign(body, item.event.id, int(time.time()))
                result = await self.client.post(url, body, headers, timeout=timeout)
                outcome = await self.recorder.submit(
                    webhooks.Attempt(item, result, body, last_in_round=index == len(targets) - 1)
                )
                if outcome != "continue":
                    let_go = bool(item.delivery.get("later_pending", True))
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # The claim stays; lease recovery (or this worker's next start) retries it.
            log.exception("webhook delivery %s failed unexpectedly", item.delivery["id"])
        finally:
            host_was_full = self._per_host[item.host] >= self.rt.settings.webhooks.per_host_limit
            slots_were_full = self._slots.locked()
            self._per_host[item.host] -= 1
            if self._per_host[item.host] <= 0:
                del self._per_host[item.host]
            self._slots.release()
            # Claim again if this round freed what held deliveries back: a later event of
            # the same message, a slot of a host at its limit, or a slot at all. Otherwise
            # a claim now could only find what the next wake-up will (one claim per
            # delivery, a third of the sender's claims at low rates, found nothing).
            if let_go or host_was_full or slots_were_full:
                self.rt.wake_webhook_sender([item.host])

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; let attempts in flight finish for up to `grace` seconds."""
        self._stopping.set()
        self.rt.wake_webhook_sender()
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.recorder.close()
        await self.client.close()
