"""Bulk messaging-settings updates: background orders, per-number outcomes, concurrency."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import telnyx

from switchboard.config import Settings
from switchboard.services.runtime import Runtime
from switchboard.store.database import create_engine
from switchboard.workers.bulk_updater import BulkUpdater
from tests.harness import Server
from tests.numbers.helpers import new_profile, provision, us_numbers, wait_order


def profiles_of(server: Server, numbers: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        params = {f"n{i}": n for i, n in enumerate(chunk)}
        rows = server.query(
            "SELECT phone_number, messaging_profile_id FROM phone_numbers"
            f" WHERE phone_number IN ({', '.join(':' + k for k in params)})",
            **params,
        )
        found.update({r["phone_number"]: r["messaging_profile_id"] for r in rows})
    return found


def test_five_thousand_numbers_with_failures(server: Server, client: telnyx.Telnyx) -> None:
    target = new_profile(client, "Bulk target")
    owned = us_numbers(4100)
    provision(client, owned)
    other = server.client(api_key=server.new_account_key("bulk-other"))
    theirs_profile = new_profile(other, "Theirs")
    theirs = us_numbers(100)
    provision(other, theirs, theirs_profile)
    unknown = us_numbers(300)  # valid, owned by nobody
    malformed = [f"+1206{i}" for i in range(100)] + ["12065550100", "", "+1 206 555 0100"] * 50
    repeats = owned[:250]
    numbers = owned + theirs + unknown + malformed + repeats
    assert len(numbers) == 5000
    random.Random(7).shuffle(numbers)

    started = time.monotonic()
    created = client.messaging_numbers_bulk_updates.create(
        messaging_profile_id=target, numbers=numbers
    ).data
    assert created is not None and created.order_id
    assert created.record_type == "messaging_numbers_bulk_update"
    assert created.success == []
    assert len(created.pending or []) == 4500
    assert Counter(created.failed) == Counter(malformed + repeats)  # known without the database

    done = wait_order(client, created.order_id)
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"5,000 numbers took {elapsed:.1f}s"  # about 2 s on an idle machine
    assert done.pending == []
    assert sorted(done.success or []) == sorted(owned)
    assert Counter(done.failed) == Counter(theirs + unknown + malformed + repeats)
    reasons = Counter(f["code"] for f in (done.model_extra or {})["failures"])
    assert reasons == {"10005": 400, "10016": 250, "10012": 250}

    assert set(profiles_of(server, owned).values()) == {target}
    assert set(profiles_of(server, theirs).values()) == {theirs_profile}
    assert profiles_of(server, unknown) == {}


def test_validation_and_lookup_errors(server: Server, client: telnyx.Telnyx) -> None:
    profile = new_profile(client)
    (number,) = us_numbers(1)
    provision(client, [number])
    bulk = client.messaging_numbers_bulk_updates

    def post(body: dict[str, Any]) -> dict[str, Any]:
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.post("/messaging_numbers_bulk_updates", cast_to=object, body=body)
        error: dict[str, Any] = err.value.body["errors"][0]  # type: ignore[index]
        return error

    assert post({"messaging_profile_id": profile, "numbers": []})["code"] == "10025"
    assert post({"messaging_profile_id": profile, "numbers": [number] * 5001})["code"] == "10025"
    assert post({"messaging_profile_id": profile, "numbers": [number, 42]})["code"] == "10025"
    assert post({"messaging_profile_id": profile, "numbers": number})["code"] == "10025"
    assert post({"messaging_profile_id": None, "numbers": [number]})["code"] == "10025"
    missing = post({"numbers": [number]})
    assert (missing["code"], missing["source"]) == ("10004", {"pointer": "/messaging_profile_id"})
    assert post({"messaging_profile_id": profile})["code"] == "10004"

    other = server.client(api_key=server.new_account_key("bulk-validation"))
    for bad_profile in ("00000000-0000-7000-8000-000000000000", "nope", new_profile(other)):
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            bulk.create(messaging_profile_id=bad_profile, numbers=[number])
        assert err.value.body["errors"][0]["source"] == {"pointer": "/messaging_profile_id"}  # type: ignore[index]

    for unknown in ("00000000-0000-7000-8000-000000000000", "not-an-order"):
        with pytest.raises(telnyx.NotFoundError):
            bulk.retrieve(unknown)
    assert profiles_of(server, [number]) == {number: None}


def test_unassign_and_assign_only(server: Server, client: telnyx.Telnyx) -> None:
    first, second = new_profile(client, "First"), new_profile(client, "Second")
    numbers = us_numbers(3)
    provision(client, numbers, first)
    for n in numbers:
        client.phone_numbers.messaging.update(n, messaging_product="A2P")
    bulk = client.messaging_numbers_bulk_updates

    kept = bulk.create(messaging_profile_id=second, numbers=numbers, assign_only=True).data
    assert kept is not None and kept.order_id
    assert sorted(wait_order(client, kept.order_id).success) == sorted(numbers)
    for n in numbers:
        data = client.phone_numbers.messaging.retrieve(n).data
        assert data is not None
        assert (data.messaging_profile_id, data.messaging_product) == (second, "A2P")

    reset = bulk.create(messaging_profile_id=first, numbers=numbers[:2]).data
    assert reset is not None and reset.order_id
    wait_order(client, reset.order_id)
    products = {
        n: (d.messaging_profile_id, d.messaging_product)
        for n in numbers
        if (d := client.phone_numbers.messaging.retrieve(n).data) is not None
    }
    assert products == {
        numbers[0]: (first, "P2P"),  # a full update takes the number type's default product
        numbers[1]: (first, "P2P"),
        numbers[2]: (second, "A2P"),
    }

    cleared = bulk.create(messaging_profile_id="", numbers=numbers).data
    assert cleared is not None and cleared.order_id
    assert len(wait_order(client, cleared.order_id).success) == 3
    assert set(profiles_of(server, numbers).values()) == {None}
    listed = client.messaging_profiles.list_phone_numbers(first)
    assert listed.data == [] and listed.meta is not None and listed.meta.total_results == 0


def _create_all(client: telnyx.Telnyx, orders: list[tuple[str, list[str]]]) -> list[str]:
    """Create the orders at the same time, from parallel connections."""

    def create(order: tuple[str, list[str]]) -> str:
        data = client.messaging_numbers_bulk_updates.create(
            messaging_profile_id=order[0], numbers=order[1]
        ).data
        assert data is not None and data.order_id
        return data.order_id

    with ThreadPoolExecutor(len(orders)) as pool:
        return list(pool.map(create, orders))


def _expected(server: Server, order_ids: list[str], orders: list[tuple[str, list[str]]]) -> Any:
    """Each number's profile after applying the orders one by one, in the order they ran.

    Orders created at the same moment have no order of their own; what must hold is that
    the outcome is that of running them one after another (here: by `started_at`), never
    a mix of interleaved batches.
    """
    placeholders = ", ".join(f":o{i}" for i in range(len(order_ids)))
    rows = server.query(
        f"SELECT id FROM bulk_update_orders WHERE id IN ({placeholders}) ORDER BY started_at, id",
        **{f"o{i}": o for i, o in enumerate(order_ids)},
    )
    by_id = dict(zip(order_ids, orders, strict=True))
    final: dict[str, str] = {}
    for row in rows:
        profile, numbers = by_id[row["id"]]
        final.update(dict.fromkeys(numbers, profile))
    return final


def test_concurrent_overlapping_orders_end_consistent(
    server: Server, client: telnyx.Telnyx
) -> None:
    numbers = us_numbers(3000)
    provision(client, numbers)
    p1, p2, p3 = (new_profile(client, f"Overlap {i}") for i in range(3))
    orders = [(p1, numbers[0:2000]), (p2, numbers[1000:3000]), (p3, numbers[500:2500])]
    order_ids = _create_all(client, orders)
    for order_id, (_, wanted) in zip(order_ids, orders, strict=True):
        done = wait_order(client, order_id)
        assert sorted(done.success) == sorted(wanted) and done.failed == []
    assert profiles_of(server, numbers) == _expected(server, order_ids, orders)


def test_several_runners_on_postgres(server: Server, client: telnyx.Telnyx, backend: str) -> None:
    """Three more runners (other worker ids) claim orders from the same PostgreSQL tables."""
    if backend != "postgres":
        pytest.skip("several runners share one database only on PostgreSQL")
    other = server.client(api_key=server.new_account_key("bulk-runners"))
    mine, theirs = us_numbers(1500), us_numbers(1500)
    provision(client, mine)
    provision(other, theirs)
    my_profiles = [new_profile(client, f"Runner {i}") for i in range(3)]
    their_profiles = [new_profile(other, f"Runner {i}") for i in range(3)]

    stop = threading.Event()

    def run_runners() -> None:
        async def main() -> None:
            engine = create_engine(server.db_url)
            rt = Runtime(settings=Settings(), engine=engine)
            runners = [BulkUpdater(rt, f"test-runner-{i}", poll_interval=0.05) for i in range(3)]
            tasks = [asyncio.create_task(r.run()) for r in runners]
            while not stop.is_set():
                await asyncio.sleep(0.05)
            for r in runners:
                await r.stop()
            await asyncio.gather(*tasks)
            await rt.close()
            await engine.dispose()

        asyncio.run(main())

    thread = threading.Thread(target=run_runners)
    thread.start()
    try:
        mine_orders = [
            (my_profiles[i], mine[i * 300 : i * 300 + 900]) for i in range(3)
        ]  # overlapping
        their_orders = [(their_profiles[i], theirs[i * 300 : i * 300 + 900]) for i in range(3)]
        with ThreadPoolExecutor(2) as pool:
            mine_ids, their_ids = pool.map(
                lambda args: _create_all(*args), [(client, mine_orders), (other, their_orders)]
            )
        for c, ids in ((client, mine_ids), (other, their_ids)):
            for order_id in ids:
                done = wait_order(c, order_id)
                assert len(done.success) == 900 and done.failed == []
    finally:
        stop.set()
        thread.join(15)
    assert profiles_of(server, mine[:1500]) == _expected(server, mine_ids, mine_orders)
    assert profiles_of(server, theirs[:1500]) == _expected(server, their_ids, their_orders)
    workers = server.query(
        "SELECT DISTINCT claimed_by FROM bulk_update_orders WHERE status = 'done'"
    )
    assert workers  # who applied each order is kept
