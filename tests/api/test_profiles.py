"""Messaging profiles: the full resource, partial updates, validation, deletion rules."""

from __future__ import annotations

import pytest
import telnyx

from tests.harness import Server, new_number


def test_create_with_every_field_and_read_back(client: telnyx.Telnyx) -> None:
    created = client.messaging_profiles.create(
        name="Support line",
        whitelisted_destinations=["US", "CA"],
        enabled=True,
        webhook_url="https://app.example.com/hooks/sms",
        webhook_failover_url="https://backup.example.com/hooks/sms",
        webhook_api_version="2",
        number_pool_settings={
            "long_code_weight": 1,
            "toll_free_weight": 10,
            "skip_unhealthy": True,
            "sticky_sender": True,
            "geomatch": False,
        },
        url_shortener_settings={"domain": "acct.fyi", "prefix": "cmpny", "send_webhooks": True},
        alpha_sender="MyCompany",
        daily_spend_limit="100.00",
        daily_spend_limit_enabled=True,
        mms_fall_back_to_sms=True,
        mobile_only=False,
        smart_encoding=True,
        features={"ai_opt_out_detection_enabled": False, "future_flag": {"x": 1}},
        resource_group_id="group-1",
    )
    profile = created.data
    assert profile is not None and profile.id
    assert profile.record_type == "messaging_profile"
    assert profile.whitelisted_destinations == ["US", "CA"]
    assert profile.number_pool_settings is not None
    assert profile.number_pool_settings.toll_free_weight == 10
    assert profile.number_pool_settings.sticky_sender is True
    assert profile.url_shortener_settings is not None
    assert profile.url_shortener_settings.domain == "acct.fyi"
    assert profile.daily_spend_limit == "100.00"
    assert profile.v1_secret
    assert profile.features is not None and profile.features.model_extra == {
        "future_flag": {"x": 1}
    }
    assert profile.created_at is not None and profile.created_at == profile.updated_at

    fetched = client.messaging_profiles.retrieve(profile.id).data
    assert fetched is not None
    assert fetched.model_dump() == profile.model_dump()


def test_defaults(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(name="Minimal", whitelisted_destinations=["*"]).data
    assert profile is not None
    assert profile.enabled is True
    assert profile.webhook_api_version == "2"
    assert profile.number_pool_settings is None
    assert profile.url_shortener_settings is None
    assert profile.smart_encoding is False
    assert profile.redaction_level == 2


def test_partial_update_and_null_clears(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(
        name="Before",
        whitelisted_destinations=["US"],
        number_pool_settings={
            "long_code_weight": 1,
            "toll_free_weight": 1,
            "skip_unhealthy": False,
        },
    ).data
    assert profile is not None and profile.id
    updated = client.messaging_profiles.update(
        profile.id, name="After", number_pool_settings=None
    ).data
    assert updated is not None
    assert updated.name == "After"
    assert updated.number_pool_settings is None
    assert updated.whitelisted_destinations == ["US"]  # untouched
    assert updated.updated_at is not None and profile.updated_at is not None
    assert updated.updated_at >= profile.updated_at
    again = client.messaging_profiles.retrieve(profile.id).data
    assert again is not None and again.name == "After"


def test_regenerate_secret(client: telnyx.Telnyx, profile_id: str) -> None:
    before = client.messaging_profiles.retrieve(profile_id).data
    after = client.messaging_profiles.actions.regenerate_secret(profile_id).data
    assert before is not None and after is not None
    assert after.v1_secret and after.v1_secret != before.v1_secret


@pytest.mark.parametrize(
    ("kwargs", "pointer", "code"),
    [
        ({"whitelisted_destinations": ["US"]}, "/name", "10004"),
        ({"name": "x"}, "/whitelisted_destinations", "10004"),
        ({"name": "x", "whitelisted_destinations": ["usa"]}, "/whitelisted_destinations", "10025"),
        ({"name": "x", "whitelisted_destinations": []}, "/whitelisted_destinations", "10025"),
        (
            {"name": "x", "whitelisted_destinations": ["US"], "alpha_sender": "Way too long!"},
            "/alpha_sender",
            "10025",
        ),
        (
            {"name": "x", "whitelisted_destinations": ["US"], "daily_spend_limit": "ten"},
            "/daily_spend_limit",
            "10025",
        ),
        (
            {"name": "x", "whitelisted_destinations": ["US"], "webhook_url": "not a url"},
            "/webhook_url",
            "10025",
        ),
        (
            {"name": "x", "whitelisted_destinations": ["US"], "webhook_api_version": "3"},
            "/webhook_api_version",
            "10025",
        ),
        (
            {
                "name": "x",
                "whitelisted_destinations": ["US"],
                "number_pool_settings": {
                    "long_code_weight": -1,
                    "toll_free_weight": 1,
                    "skip_unhealthy": True,
                },
            },
            "/number_pool_settings/long_code_weight",
            "10025",
        ),
        (
            {
                "name": "x",
                "whitelisted_destinations": ["US"],
                "number_pool_settings": {"long_code_weight": 1},
            },
            "/number_pool_settings/toll_free_weight",
            "10004",
        ),
    ],
)
def test_create_validation(
    server: Server, client: telnyx.Telnyx, kwargs: dict[str, object], pointer: str, code: str
) -> None:
    before = server.query("SELECT COUNT(*) AS n FROM messaging_profiles")[0]["n"]
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.post("/messaging_profiles", body=kwargs, cast_to=object)
    (error,) = err.value.body["errors"]  # type: ignore[index]
    assert error["code"] == code
    assert error["source"] == {"pointer": pointer}
    assert server.query("SELECT COUNT(*) AS n FROM messaging_profiles")[0]["n"] == before


def test_update_rejects_null_for_required_fields(client: telnyx.Telnyx, profile_id: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messaging_profiles.update(profile_id, name=None)  # type: ignore[arg-type]
    assert err.value.body["errors"][0]["source"] == {"pointer": "/name"}  # type: ignore[index]


def test_delete_refused_while_numbers_assigned(
    client: telnyx.Telnyx, profile_id: str, sender: str
) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messaging_profiles.delete(profile_id)
    assert err.value.body["errors"][0]["code"] == "10021"  # type: ignore[index]
    assert client.messaging_profiles.retrieve(profile_id).data is not None


def test_delete_returns_the_profile_then_404(client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(name="Doomed", whitelisted_destinations=["US"]).data
    assert profile is not None and profile.id
    deleted = client.messaging_profiles.delete(profile.id).data
    assert deleted is not None and deleted.id == profile.id and deleted.name == "Doomed"
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.retrieve(profile.id)
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.delete(profile.id)


def test_list_filters_and_pagination(server: Server) -> None:
    key = server.new_account_key("pagination")
    client = server.client(api_key=key)
    ids = []
    for i in range(25):
        profile = client.messaging_profiles.create(
            name=f"Paged {i:02d}" + (" special" if i % 5 == 0 else ""),
            whitelisted_destinations=["US"],
        ).data
        assert profile is not None
        ids.append(profile.id)

    first = client.messaging_profiles.list(page_size=10)
    assert [p.id for p in first.data] == ids[:10]
    assert first.meta is not None
    assert (first.meta.page_number, first.meta.total_pages) == (1, 3)
    assert first.meta.model_extra == {"page_size": 10, "total_results": 25}
    assert [p.id for p in client.messaging_profiles.list(page_size=10)] == ids  # auto-paging
    past_end = client.messaging_profiles.list(page_size=10, page_number=4)
    assert past_end.data == [] and past_end.meta is not None and past_end.meta.total_pages == 3

    special = client.messaging_profiles.list(filter_name_contains="special")
    assert len(special.data) == 5
    exact = client.messaging_profiles.list(filter={"name": "Paged 03"})
    assert [p.name for p in exact.data] == ["Paged 03"]
    none = client.messaging_profiles.list(filter_name_contains="%")
    assert none.data == [] and none.meta is not None and none.meta.total_pages == 0


def test_number_orders_assign_and_list(client: telnyx.Telnyx, profile_id: str) -> None:
    numbers = [new_number(), new_number("+1844555")]
    order = client.number_orders.create(
        phone_numbers=[{"phone_number": n} for n in numbers],
        messaging_profile_id=profile_id,
        customer_reference="ref-1",
    ).data
    assert order is not None and order.id
    assert order.status == "success"
    assert order.phone_numbers_count == 2
    assert [p.phone_number for p in order.phone_numbers or []] == numbers
    again = client.number_orders.retrieve(order.id).data
    assert again is not None and again.id == order.id and again.customer_reference == "ref-1"

    listed = client.phone_numbers.list(filter={"phone_number": ",".join(numbers)})
    assert sorted(n.phone_number for n in listed.data) == sorted(numbers)
    by_type = {n.phone_number: n.phone_number_type for n in listed.data}
    assert by_type == {numbers[0]: "local", numbers[1]: "toll_free"}
    assert all(n.messaging_profile_id == profile_id and n.status == "active" for n in listed.data)

    by_e164 = client.phone_numbers.retrieve(numbers[0]).data  # `+` kept in the path
    assert by_e164 is not None and by_e164.phone_number == numbers[0]


def test_number_order_validation(server: Server, client: telnyx.Telnyx, sender: str) -> None:
    before = server.query("SELECT COUNT(*) AS n FROM phone_numbers")[0]["n"]
    cases = [
        (
            {"phone_numbers": [{"phone_number": new_number()}, {"phone_number": "555"}]},
            "/phone_numbers/1/phone_number",
        ),
        ({"phone_numbers": [{"phone_number": sender}]}, "/phone_numbers/0/phone_number"),
        (
            {
                "phone_numbers": [{"phone_number": new_number()}],
                "messaging_profile_id": "01a21bce-81cd-78fe-85af-ba00e6aea92e",
            },
            "/messaging_profile_id",
        ),
        ({"phone_numbers": []}, "/phone_numbers"),
    ]
    for body, pointer in cases:
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.post("/number_orders", body=body, cast_to=object)
        assert err.value.body["errors"][0]["source"] == {"pointer": pointer}  # type: ignore[index]
    assert server.query("SELECT COUNT(*) AS n FROM phone_numbers")[0]["n"] == before
