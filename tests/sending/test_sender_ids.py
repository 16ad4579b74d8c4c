"""Short codes and alphanumeric sender ids: their resources and sending from them."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import telnyx

from tests.harness import Server
from tests.sending.conftest import ServerFactory
from tests.sending.helpers import error_of, final_row, new_sender, row

_codes = itertools.count(71000)
UK = "+442071838750"


def sandbox_short_code(server: Server, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.api_url}/sandbox/short_codes",
        json=body,
        headers={"Authorization": f"Bearer {server.api_key}"},
    )


def new_short_code(server: Server, profile_id: str | None) -> dict[str, Any]:
    response = sandbox_short_code(
        server, short_code=str(next(_codes)), messaging_profile_id=profile_id
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_short_code_resource(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, _ = new_sender(client)
    created = new_short_code(server, None)
    assert created["record_type"] == "short_code" and created["messaging_profile_id"] is None
    assert created["country_code"] == "US"

    fetched = client.short_codes.retrieve(created["id"]).data
    assert fetched is not None and fetched.short_code == created["short_code"]

    updated = client.short_codes.update(
        created["id"], messaging_profile_id=profile_id, tags=["promo", "promo", "alerts"]
    ).data
    assert updated is not None
    assert updated.messaging_profile_id == profile_id and updated.tags == ["promo", "alerts"]
    stored = server.query(
        "SELECT messaging_profile_id FROM short_codes WHERE id = :i", i=updated.id
    )
    assert stored == [{"messaging_profile_id": profile_id}]

    listed = client.short_codes.list(filter={"messaging_profile_id": profile_id})
    assert [c.id for c in listed.data] == [created["id"]]
    assert listed.meta is not None and listed.meta.total_pages == 1
    by_profile = client.messaging_profiles.list_short_codes(profile_id)
    assert [c.short_code for c in by_profile.data] == [created["short_code"]]

    unassigned = new_short_code(server, None)
    nulls = client.short_codes.list(filter={"messaging_profile_id": "null"}, page_size=250)
    assert unassigned["id"] in {c.id for c in nulls.data}
    assert created["id"] not in {c.id for c in nulls.data}


def test_short_code_errors(server: Server, client: telnyx.Telnyx) -> None:
    code = new_short_code(server, None)
    duplicate = sandbox_short_code(server, short_code=code["short_code"])
    assert (duplicate.status_code, duplicate.json()["errors"][0]["code"]) == (422, "10012")
    for bad, pointer in (("12", "/short_code"), ("12ab5", "/short_code"), ("", "/short_code")):
        response = sandbox_short_code(server, short_code=bad)
        assert response.status_code == 422
        assert response.json()["errors"][0]["source"] == {"pointer": pointer}
    missing = sandbox_short_code(server, short_code="73001", messaging_profile_id="nope")
    assert missing.json()["errors"][0]["code"] == "10017"
    assert server.query("SELECT id FROM short_codes WHERE short_code = '73001'") == []

    with pytest.raises(telnyx.NotFoundError):
        client.short_codes.retrieve("01a21bce-81cd-78fe-85af-ba00e6aea92e")
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.short_codes.update(code["id"], messaging_profile_id="not-a-profile")
    assert error_of(err.value)["code"] == "10017"
    other = server.client(server.new_account_key("short-code-other"))
    with pytest.raises(telnyx.NotFoundError):
        other.short_codes.retrieve(code["id"])


def test_send_from_a_short_code(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, _ = new_sender(client)
    code = new_short_code(server, profile_id)["short_code"]
    sent = client.messages.send_short_code(from_=code, to="+13125550100", text="Your code: 1234")
    data = sent.data
    assert data is not None and data.id and data.from_ is not None
    assert (data.from_.phone_number, data.from_.line_type) == (code, "")
    assert data.messaging_profile_id == profile_id
    assert row(server, data.id)["sender_type"] == "short_code"
    assert final_row(server, data.id)["status"] == "delivered"

    # POST /messages tells a short code by its shape.
    generic = client.messages.send(from_=code, to="+13125550100", text="Again").data
    assert generic is not None and generic.id
    assert row(server, generic.id)["sender_type"] == "short_code"


def test_short_code_send_errors(server: Server, client: telnyx.Telnyx) -> None:
    unassigned = new_short_code(server, None)["short_code"]
    _, long_code = new_sender(client)
    cases = [
        (unassigned, "40306"),  # no messaging profile
        ("99999999", "40305"),  # not the account's
        (long_code, "40305"),  # not a short code
    ]
    for address, code in cases:
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.messages.send_short_code(from_=address, to="+13125550100", text="x")
        assert (error_of(err.value)["code"], error_of(err.value)["source"]) == (
            code,
            {"pointer": "/from"},
        )
    other = server.client(server.new_account_key("short-code-sender"))
    other_profile, _ = new_sender(other)
    theirs = httpx.post(
        f"{server.api_url}/sandbox/short_codes",
        json={"short_code": str(next(_codes)), "messaging_profile_id": other_profile},
        headers={"Authorization": f"Bearer {other.api_key}"},
    ).json()["data"]["short_code"]
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_short_code(from_=theirs, to="+13125550100", text="x")
    assert error_of(err.value)["code"] == "40305"
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=unassigned) == []


def test_sandbox_short_codes_are_absent_in_gateway_mode(make_server: ServerFactory) -> None:
    gateway = make_server({"SWITCHBOARD_MODE": "gateway"})
    response = sandbox_short_code(gateway, short_code="12345")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "10005"
    assert gateway.query("SELECT id FROM short_codes") == []


def test_alphanumeric_sender_id_resource(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, number = new_sender(client, destinations=["*"])
    created = client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="MyShop",
        messaging_profile_id=profile_id,
        us_long_code_fallback=number,
    ).data
    assert created is not None and created.id
    assert (created.alphanumeric_sender_id, created.us_long_code_fallback) == ("MyShop", number)
    assert (
        created.messaging_profile_id == profile_id
        and created.record_type == "alphanumeric_sender_id"
    )

    fetched = client.alphanumeric_sender_ids.retrieve(created.id).data
    assert fetched is not None and fetched.alphanumeric_sender_id == "MyShop"
    listed = client.alphanumeric_sender_ids.list(filter_messaging_profile_id=profile_id)
    assert [a.id for a in listed.data] == [created.id]
    by_profile = client.messaging_profiles.list_alphanumeric_sender_ids(profile_id)
    assert [a.id for a in by_profile.data] == [created.id]

    deleted = client.alphanumeric_sender_ids.delete(created.id).data
    assert deleted is not None and deleted.id == created.id
    with pytest.raises(telnyx.NotFoundError):
        client.alphanumeric_sender_ids.retrieve(created.id)
    assert server.query("SELECT id FROM alphanumeric_sender_ids WHERE id = :i", i=created.id) == []


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"alphanumeric_sender_id": "TwelveChars1"}, "10025", "/alphanumeric_sender_id"),
        ({"alphanumeric_sender_id": "12345"}, "10025", "/alphanumeric_sender_id"),
        ({"alphanumeric_sender_id": "Shop!"}, "10025", "/alphanumeric_sender_id"),
        ({"messaging_profile_id": "no-such-profile"}, "10017", "/messaging_profile_id"),
        ({"us_long_code_fallback": "13125550100"}, "10016", "/us_long_code_fallback"),
        ({"us_long_code_fallback": "+13125559999"}, "40305", "/us_long_code_fallback"),
    ],
)
def test_alphanumeric_sender_id_validation(
    server: Server, client: telnyx.Telnyx, body: dict[str, str], code: str, pointer: str
) -> None:
    profile_id, _ = new_sender(client, destinations=["*"])
    params = {"alphanumeric_sender_id": "Valid", "messaging_profile_id": profile_id, **body}
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.alphanumeric_sender_ids.create(**params)  # type: ignore[arg-type]
    assert (error_of(err.value)["code"], error_of(err.value)["source"]) == (
        code,
        {"pointer": pointer},
    )
    assert (
        server.query(
            "SELECT id FROM alphanumeric_sender_ids WHERE messaging_profile_id = :p", p=profile_id
        )
        == []
    )


def test_duplicate_alphanumeric_sender_id(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, _ = new_sender(client, destinations=["*"])
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="Dup", messaging_profile_id=profile_id
    )
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.alphanumeric_sender_ids.create(
            alphanumeric_sender_id="Dup", messaging_profile_id=profile_id
        )
    assert error_of(err.value)["code"] == "10012"


def test_send_from_an_alphanumeric_sender_id(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, fallback = new_sender(client, destinations=["*"])
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="My Shop", messaging_profile_id=profile_id
    )
    sent = client.messages.send_with_alphanumeric_sender(
        from_="My Shop", messaging_profile_id=profile_id, to=UK, text="Your order shipped"
    ).data
    assert sent is not None and sent.id and sent.from_ is not None
    assert (sent.from_.phone_number, sent.type, sent.messaging_profile_id) == (
        "My Shop",
        "SMS",
        profile_id,
    )
    assert row(server, sent.id)["sender_type"] == "alphanumeric"
    assert final_row(server, sent.id)["status"] == "delivered"

    # POST /messages: an alphanumeric `from` with its profile.
    generic = client.messages.send(
        from_="My Shop", messaging_profile_id=profile_id, to=UK, text="Again"
    ).data
    assert generic is not None and generic.id
    assert row(server, generic.id)["sender_type"] == "alphanumeric"

    # US destinations need the us_long_code_fallback.
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_with_alphanumeric_sender(
            from_="My Shop", messaging_profile_id=profile_id, to="+13125550100", text="x"
        )
    assert error_of(err.value)["code"] == "40305"
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="With Backup",
        messaging_profile_id=profile_id,
        us_long_code_fallback=fallback,
    )
    to_us = client.messages.send_with_alphanumeric_sender(
        from_="With Backup", messaging_profile_id=profile_id, to="+13125550100", text="x"
    ).data
    assert to_us is not None and to_us.from_ is not None and to_us.from_.phone_number == fallback


def test_alphanumeric_send_errors(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, _ = new_sender(client, destinations=["*"])
    other_profile, _ = new_sender(client, destinations=["*"])
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="Brand", messaging_profile_id=profile_id
    )
    before = server.query("SELECT COUNT(*) AS n FROM messages")[0]["n"]
    cases: list[tuple[Any, dict[str, Any], str, str]] = [
        # Registered on another profile of the account.
        (
            client.messages.send_with_alphanumeric_sender,
            {"from_": "Brand", "messaging_profile_id": other_profile},
            "40305",
            "/from",
        ),
        (client.messages.send, {"from_": "Brand"}, "10004", "/messaging_profile_id"),
        (
            client.messages.send,
            {
                "from_": "Brand",
                "messaging_profile_id": profile_id,
                "media_urls": ["https://example.com/a.png"],
            },
            "10025",
            "/media_urls",
        ),
        (
            client.messages.send_with_alphanumeric_sender,
            {
                "from_": "Brand",
                "messaging_profile_id": profile_id,
                "extra_body": {"media_urls": ["https://example.com/a.png"]},
            },
            "10025",
            "/media_urls",
        ),
        (client.messages.send, {"from_": "Not-Valid!"}, "40305", "/from"),
    ]
    for call, params, code, pointer in cases:
        params = {"to": UK, "text": "x", **params}
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            call(**params)
        assert (error_of(err.value)["code"], error_of(err.value)["source"]) == (
            code,
            {"pointer": pointer},
        ), params
    assert server.query("SELECT COUNT(*) AS n FROM messages")[0]["n"] == before


def test_profile_delete_removes_its_sender_ids(server: Server, client: telnyx.Telnyx) -> None:
    profile = client.messaging_profiles.create(name="Short-lived", whitelisted_destinations=["*"])
    assert profile.data is not None and profile.data.id
    client.alphanumeric_sender_ids.create(
        alphanumeric_sender_id="Gone", messaging_profile_id=profile.data.id
    )
    code = new_short_code(server, profile.data.id)
    client.messaging_profiles.delete(profile.data.id)
    assert (
        server.query(
            "SELECT id FROM alphanumeric_sender_ids WHERE messaging_profile_id = :p",
            p=profile.data.id,
        )
        == []
    )
    kept = client.short_codes.retrieve(code["id"]).data
    assert kept is not None and kept.messaging_profile_id is None
