"""Number pool sends: `POST /messages/number_pool` and `POST /messages` without `from`."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import telnyx

from tests.harness import Server, new_number
from tests.sending.conftest import ServerFactory
from tests.sending.helpers import error_of, final_row, row

POOL = {"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False}


def pool_profile(
    client: telnyx.Telnyx, numbers: list[str], **settings: Any
) -> tuple[str, list[str]]:
    profile = client.messaging_profiles.create(
        name="Pool",
        whitelisted_destinations=["US"],
        number_pool_settings={**POOL, **settings},  # type: ignore[typeddict-item]
    ).data
    assert profile is not None and profile.id
    if numbers:
        client.number_orders.create(
            phone_numbers=[{"phone_number": n} for n in numbers], messaging_profile_id=profile.id
        )
    return profile.id, numbers


def senders_of(client: telnyx.Telnyx, profile_id: str, to: str, times: int) -> Counter[str]:
    picked: Counter[str] = Counter()
    for i in range(times):
        sent = client.messages.send_number_pool(
            messaging_profile_id=profile_id, to=to, text=f"pool {i}"
        ).data
        assert sent is not None and sent.from_ is not None and sent.from_.phone_number
        picked[sent.from_.phone_number] += 1
    return picked


def test_pool_send_uses_a_number_of_the_pool(server: Server, client: telnyx.Telnyx) -> None:
    long_code, toll_free = new_number(), new_number("+1844555")
    profile_id, _ = pool_profile(client, [long_code, toll_free])
    sent = client.messages.send_number_pool(
        messaging_profile_id=profile_id, to="+13125550100", text="From the pool"
    ).data
    assert sent is not None and sent.id and sent.from_ is not None
    assert sent.from_.phone_number in (long_code, toll_free)
    assert sent.messaging_profile_id == profile_id
    stored = row(server, sent.id)
    assert stored["from_address"] == sent.from_.phone_number
    assert stored["sender_type"] == (
        "toll_free" if stored["from_address"] == toll_free else "long_code"
    )
    assert final_row(server, sent.id)["status"] == "delivered"

    # POST /messages with a profile and no `from` is a pool send too.
    generic = client.messages.send(
        messaging_profile_id=profile_id, to="+13125550100", text="Also the pool"
    ).data
    assert generic is not None and generic.from_ is not None
    assert generic.from_.phone_number in (long_code, toll_free)


def test_zero_weight_leaves_a_number_type_out(server: Server, client: telnyx.Telnyx) -> None:
    long_code, toll_free = new_number(), new_number("+1844555")
    only_toll, _ = pool_profile(client, [long_code, toll_free], long_code_weight=0)
    assert set(senders_of(client, only_toll, "+13125550100", 8)) == {toll_free}

    long_2, toll_2 = new_number(), new_number("+1844555")
    only_long, _ = pool_profile(client, [long_2, toll_2], toll_free_weight=0)
    assert set(senders_of(client, only_long, "+13125550100", 8)) == {long_2}
    rows = server.query(
        "SELECT DISTINCT sender_type FROM messages WHERE messaging_profile_id = :p", p=only_long
    )
    assert [r["sender_type"] for r in rows] == ["long_code"]


def test_weights_with_a_seeded_server(make_server: ServerFactory) -> None:
    srv = make_server({"SWITCHBOARD_NUMBER_POOL__SEED": "2024"})
    client = srv.client()
    long_code, toll_free = new_number(), new_number("+1844555")
    profile_id, _ = pool_profile(client, [long_code, toll_free], toll_free_weight=3)
    picked = senders_of(client, profile_id, "+13125550100", 60)
    assert 0.55 <= picked[toll_free] / 60 <= 0.95
    assert picked[long_code] > 0


def test_sticky_sender(server: Server, client: telnyx.Telnyx) -> None:
    numbers = [new_number() for _ in range(3)]
    profile_id, _ = pool_profile(client, numbers, sticky_sender=True)
    for recipient in ("+13125550100", "+13125550111", "+13125550122"):
        picked = senders_of(client, profile_id, recipient, 5)
        assert len(picked) == 1, picked


def test_geomatch(server: Server, client: telnyx.Telnyx) -> None:
    chicago, san_francisco, new_york = new_number(), new_number("+1415555"), new_number("+1646555")
    profile_id, _ = pool_profile(client, [chicago, san_francisco, new_york], geomatch=True)
    assert set(senders_of(client, profile_id, "+14155550100", 5)) == {san_francisco}
    assert set(senders_of(client, profile_id, "+16465550100", 5)) == {new_york}
    # No number in the destination's area code: any number of the pool.
    assert set(senders_of(client, profile_id, "+16175550100", 20)) <= {
        chicago,
        san_francisco,
        new_york,
    }


def test_skip_unhealthy(server: Server, client: telnyx.Telnyx) -> None:
    sick, well = new_number(), new_number()
    profile_id, _ = pool_profile(client, [sick, well], skip_unhealthy=True)
    # One undeliverable message makes `sick` unhealthy: deliverability 0 % (< 25 %).
    failed = client.messages.send(from_=sick, to="+13125550102", text="nobody home").data
    assert failed is not None and failed.id
    assert final_row(server, failed.id)["status"] == "delivery_failed"
    health = client.phone_numbers.messaging.retrieve(sick).data
    assert health is not None and health.health is not None
    assert health.health.success_ratio == 0

    assert set(senders_of(client, profile_id, "+13125550100", 10)) == {well}
    client.messaging_profiles.update(
        profile_id, number_pool_settings={**POOL, "skip_unhealthy": False}
    )
    assert set(senders_of(client, profile_id, "+13125550100", 30)) == {sick, well}


def test_pool_errors(server: Server, client: telnyx.Telnyx) -> None:
    no_pool = client.messaging_profiles.create(name="No pool", whitelisted_destinations=["US"])
    assert no_pool.data is not None and no_pool.data.id
    client.number_orders.create(
        phone_numbers=[{"phone_number": new_number()}], messaging_profile_id=no_pool.data.id
    )
    empty_id, _ = pool_profile(client, [])
    other = server.client(server.new_account_key("pool-other"))
    foreign_id, _ = pool_profile(other, [new_number()])
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"messaging_profile_id": no_pool.data.id}, "40344", "/messaging_profile_id"),
        ({"messaging_profile_id": empty_id}, "40344", "/messaging_profile_id"),
        ({"messaging_profile_id": foreign_id}, "10017", "/messaging_profile_id"),
        ({"messaging_profile_id": "not-a-uuid"}, "10017", "/messaging_profile_id"),
    ]
    before = server.query("SELECT COUNT(*) AS n FROM messages")[0]["n"]
    for body, code, pointer in cases:
        for call in (client.messages.send_number_pool, client.messages.send):
            with pytest.raises(telnyx.UnprocessableEntityError) as err:
                call(to="+13125550100", text="x", **body)  # type: ignore[operator]
            assert (error_of(err.value)["code"], error_of(err.value)["source"]) == (
                code,
                {"pointer": pointer},
            )
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.with_raw_response.send_number_pool(
            messaging_profile_id="", to="+13125550100", text="x"
        )
    assert error_of(err.value)["source"] == {"pointer": "/messaging_profile_id"}
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send(to="+13125550100", text="no sender")
    error = error_of(err.value)
    assert (error["code"], error["source"]) == ("10004", {"pointer": "/from"})
    assert server.query("SELECT COUNT(*) AS n FROM messages")[0]["n"] == before
