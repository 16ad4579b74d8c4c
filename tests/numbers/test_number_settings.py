"""Messaging settings of phone numbers and mobile numbers, through the SDK in strict mode."""

from __future__ import annotations

import pytest
import telnyx

from tests.harness import Server
from tests.numbers.helpers import new_profile, provision, uk_mobile, us_numbers, wait_order


def test_list_filters_sort_and_pages(client: telnyx.Telnyx) -> None:
    profile = new_profile(client)
    longs = sorted(us_numbers(5))
    provision(client, longs, profile)
    toll_free = "+18885551234"
    provision(client, [toll_free], profile)

    page = client.phone_numbers.messaging.list(filter_messaging_profile_id=profile, page_size=4)
    assert page.meta is not None
    assert (page.meta.page_number, page.meta.total_pages, page.meta.total_results) == (1, 2, 6)
    everything = list(page)  # the SDK follows meta.total_pages
    assert sorted(n.phone_number or "" for n in everything) == sorted([*longs, toll_free])
    for number in everything:
        assert number.record_type == "messaging_phone_number"
        assert number.messaging_profile_id == profile
        assert number.health is not None and number.health.message_count == 0
        assert number.features is not None and number.features.sms is not None

    wanted = f"{longs[1]},{longs[3]}"
    exact = client.phone_numbers.messaging.list(filter_phone_number=wanted)
    assert [n.phone_number for n in exact.data] == [longs[1], longs[3]]

    contains = client.phone_numbers.messaging.list(filter_phone_number_contains=longs[2][-7:])
    assert [n.phone_number for n in contains.data] == [longs[2]]

    tollfree = client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, filter_type="tollfree"
    )
    assert [(n.phone_number, n.type) for n in tollfree.data] == [(toll_free, "tollfree")]
    assert tollfree.data[0].eligible_messaging_products == ["A2P"]
    long_codes = client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, filter_type="longcode"
    )
    assert {n.phone_number for n in long_codes.data} == set(longs)
    assert not client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, filter_type="shortcode"
    ).data

    up = client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, filter_type="longcode", sort_phone_number="asc"
    )
    down = client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, filter_type="longcode", sort_phone_number="desc"
    )
    assert [n.phone_number for n in up.data] == longs
    assert [n.phone_number for n in down.data] == longs[::-1]

    past_end = client.phone_numbers.messaging.list(
        filter_messaging_profile_id=profile, page_number=9, page_size=4
    )
    assert past_end.data == []

    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.phone_numbers.messaging.list(extra_query={"filter[type]": "long_code"})
    assert err.value.body["errors"][0]["source"] == {"parameter": "filter[type]"}  # type: ignore[index]
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.phone_numbers.messaging.list(extra_query={"sort[phone_number]": "up"})


def test_retrieve_by_id_or_number(client: telnyx.Telnyx) -> None:
    (number,) = us_numbers(1)
    provision(client, [number])
    by_number = client.phone_numbers.messaging.retrieve(number).data
    assert by_number is not None and by_number.id
    assert by_number.phone_number == number
    assert by_number.country_code == "US"
    assert by_number.type == "longcode"
    assert by_number.messaging_profile_id is None
    assert by_number.messaging_product == "P2P"
    assert by_number.eligible_messaging_products == ["A2P", "P2P"]
    assert by_number.features is not None and by_number.features.mms is not None
    assert by_number.health is not None
    assert by_number.health.success_ratio == 1.0 and by_number.health.spam_ratio == 0.0

    by_id = client.phone_numbers.messaging.retrieve(by_number.id).data
    assert by_id is not None and by_id.model_dump() == by_number.model_dump()

    for unknown in ("+12069999999", "1234567890123456789", "messaging"):
        with pytest.raises(telnyx.NotFoundError):
            client.phone_numbers.messaging.retrieve(unknown)


def test_update_profile_product_and_tags(server: Server, client: telnyx.Telnyx) -> None:
    first, second = new_profile(client, "First"), new_profile(client, "Second")
    number, toll_free = us_numbers(1)[0], "+18885550177"
    provision(client, [number, toll_free])
    before = client.phone_numbers.messaging.retrieve(number).data
    assert before is not None and before.updated_at is not None

    assigned = client.phone_numbers.messaging.update(
        number, messaging_profile_id=first, tags=["a", "b"]
    ).data
    assert assigned is not None and assigned.updated_at is not None
    assert assigned.messaging_profile_id == first
    assert assigned.tags == ["a", "b"]
    assert assigned.updated_at > before.updated_at

    # Absent fields stay; tags are replaced, not merged.
    retagged = client.phone_numbers.messaging.update(number, tags=["c"]).data
    assert retagged is not None
    assert (retagged.messaging_profile_id, retagged.tags) == (first, ["c"])

    moved = client.phone_numbers.messaging.update(
        assigned.id or "", messaging_profile_id=second, messaging_product="A2P"
    ).data
    assert moved is not None
    assert (moved.messaging_profile_id, moved.messaging_product, moved.tags) == (
        second,
        "A2P",
        ["c"],
    )
    # JSON null leaves the assignment as it is; "" unassigns.
    unchanged = client.phone_numbers.messaging.update(
        number, extra_body={"messaging_profile_id": None}
    ).data
    assert unchanged is not None and unchanged.messaging_profile_id == second
    unassigned = client.phone_numbers.messaging.update(number, messaging_profile_id="").data
    assert unassigned is not None and unassigned.messaging_profile_id is None
    rows = server.query(
        "SELECT messaging_profile_id, messaging_product FROM phone_numbers WHERE phone_number = :n",
        n=number,
    )
    assert rows == [{"messaging_profile_id": None, "messaging_product": "A2P"}]

    other = server.client(api_key=server.new_account_key("numbers-update"))
    foreign = new_profile(other, "Foreign")
    for bad_profile in ("00000000-0000-7000-8000-000000000000", "not-a-uuid", foreign):
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.phone_numbers.messaging.update(number, messaging_profile_id=bad_profile)
        assert err.value.body["errors"][0]["source"] == {"pointer": "/messaging_profile_id"}  # type: ignore[index]

    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.phone_numbers.messaging.update(toll_free, messaging_product="P2P")
    assert err.value.body["errors"][0]["source"] == {"pointer": "/messaging_product"}  # type: ignore[index]
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.phone_numbers.messaging.update(number, messaging_product="RCS")
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.phone_numbers.messaging.update(number, extra_body={"tags": "not-a-list"})
    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.messaging.update("+12069999998", tags=[])


def test_mobile_numbers(client: telnyx.Telnyx) -> None:
    mobile, (local,) = uk_mobile(), us_numbers(1)
    profile = new_profile(client, whitelisted_destinations=["GB", "US"])
    provision(client, [mobile, local], profile)

    listed = list(client.mobile_phone_numbers.messaging.list(page_size=250))
    by_number = {n.phone_number: n for n in listed}
    assert mobile in by_number and local not in by_number
    item = by_number[mobile]
    assert item.type == "longcode"
    assert item.country_code == "GB"
    assert item.messaging_profile_id == profile
    assert item.features is not None and item.features.sms is not None
    assert "mms" not in (item.features.model_dump(exclude_unset=True))
    assert "health" not in item.model_dump(exclude_unset=True)

    for key in (mobile, item.id or ""):
        one = client.mobile_phone_numbers.messaging.retrieve(key).data
        assert one is not None and one.phone_number == mobile and one.type == "longcode"
    with pytest.raises(telnyx.NotFoundError):
        client.mobile_phone_numbers.messaging.retrieve(local)  # a US long code is not mobile
    with pytest.raises(telnyx.NotFoundError):
        client.mobile_phone_numbers.messaging.retrieve("+447911999999")

    # A mobile number is an ordinary number for the other endpoints too.
    same = client.phone_numbers.messaging.retrieve(mobile).data
    assert same is not None and same.type == "longcode" and same.health is not None
    detailed = client.phone_numbers.retrieve(mobile).data
    assert detailed is not None and detailed.phone_number_type == "mobile"


def test_other_accounts_numbers_are_invisible(server: Server, client: telnyx.Telnyx) -> None:
    mine, mobile = us_numbers(1)[0], uk_mobile()
    profile = new_profile(client)
    provision(client, [mine, mobile], profile)
    other = server.client(api_key=server.new_account_key("numbers-isolation"))
    theirs = new_profile(other, "Theirs")

    for key in (mine, mobile):
        with pytest.raises(telnyx.NotFoundError):
            other.phone_numbers.messaging.retrieve(key)
        with pytest.raises(telnyx.NotFoundError):
            other.phone_numbers.messaging.update(key, messaging_profile_id="", tags=["x"])
    with pytest.raises(telnyx.NotFoundError):
        other.mobile_phone_numbers.messaging.retrieve(mobile)
    assert not other.phone_numbers.messaging.list(filter_phone_number=f"{mine},{mobile}").data
    assert all(n.phone_number != mobile for n in other.mobile_phone_numbers.messaging.list())
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.list_phone_numbers(profile)

    order = other.messaging_numbers_bulk_updates.create(
        messaging_profile_id=theirs, numbers=[mine, mobile]
    ).data
    assert order is not None and order.order_id
    done = wait_order(other, order.order_id)
    assert (done.success, done.failed) == ([], [mine, mobile])
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_numbers_bulk_updates.retrieve(order.order_id)

    rows = server.query(
        "SELECT phone_number, messaging_profile_id, tags FROM phone_numbers"
        " WHERE phone_number IN (:a, :b) ORDER BY phone_number",
        a=mine,
        b=mobile,
    )
    assert [r["messaging_profile_id"] for r in rows] == [profile, profile]
    assert all(r["tags"] in ([], "[]") for r in rows)
