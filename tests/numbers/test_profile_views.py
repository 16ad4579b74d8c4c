"""A profile's numbers and senders; the profile rules a send must pass."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import telnyx

from tests.harness import Server, new_number
from tests.numbers.helpers import (
    account_of,
    message_row,
    new_profile,
    provision,
    store_messages,
    us_numbers,
)

UNKNOWN_PROFILE = "00000000-0000-7000-8000-000000000000"


def test_phone_numbers_of_a_profile(server: Server, client: telnyx.Telnyx) -> None:
    profile, elsewhere = new_profile(client), new_profile(client, "Elsewhere")
    numbers = us_numbers(3)
    provision(client, numbers, profile)
    provision(client, us_numbers(1), elsewhere)

    page = client.messaging_profiles.list_phone_numbers(profile, page_size=2)
    assert page.meta is not None
    assert (page.meta.page_number, page.meta.total_pages, page.meta.total_results) == (1, 2, 3)
    listed = list(page)
    assert sorted(n.phone_number or "" for n in listed) == sorted(numbers)
    for number in listed:
        assert number.messaging_profile_id == profile
        assert number.health is not None and number.health.message_count == 0

    for unknown in (UNKNOWN_PROFILE, "not-a-uuid"):
        with pytest.raises(telnyx.NotFoundError):
            client.messaging_profiles.list_phone_numbers(unknown)
    other = server.client(api_key=server.new_account_key("profile-views"))
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.list_phone_numbers(profile)


def test_short_codes_and_alphanumeric_ids_are_empty_pages(client: telnyx.Telnyx) -> None:
    profile = new_profile(client)
    short_codes = client.messaging_profiles.list_short_codes(profile)
    alphanumeric = client.messaging_profiles.list_alphanumeric_sender_ids(profile, page_size=5)
    for page, size in ((short_codes, 20), (alphanumeric, 5)):
        assert page.data == []
        assert page.meta is not None
        assert page.meta.model_dump() == {
            "page_number": 1,
            "page_size": size,
            "total_pages": 0,
            "total_results": 0,
        }
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.list_short_codes(UNKNOWN_PROFILE)
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.list_alphanumeric_sender_ids(UNKNOWN_PROFILE)


def _sender(client: telnyx.Telnyx, profile: str) -> str:
    number = new_number()
    provision(client, [number], profile)
    return number


def test_daily_spend_limit(server: Server, client: telnyx.Telnyx) -> None:
    # A US SMS costs 0.0040 per part: the limit allows two messages, not three.
    profile = new_profile(client, daily_spend_limit="0.0100", daily_spend_limit_enabled=True)
    sender = _sender(client, profile)
    yesterday = datetime.now(UTC).replace(hour=0, minute=0) - timedelta(hours=1)
    store_messages(  # yesterday's spend does not count today
        server,
        [
            message_row(
                account_id=account_of(client, profile),
                profile_id=profile,
                direction="outbound",
                from_=sender,
                to="+13125550100",
                status="delivered",
                received_at=yesterday,
                cost="5.0000",
            )
        ],
    )

    def send() -> None:
        client.messages.send(from_=sender, to="+13125550100", text="within budget?")

    send()
    send()
    with pytest.raises(telnyx.RateLimitError) as err:
        send()
    assert err.value.status_code == 429
    assert err.value.response.headers["x-should-retry"] == "false"
    error = err.value.body["errors"][0]  # type: ignore[index]
    assert error["code"] == "40333"
    assert error["title"] == "Messaging profile spend limit reached"

    client.messaging_profiles.update(profile, daily_spend_limit="0.0120")
    send()  # exactly reaching the limit is allowed
    with pytest.raises(telnyx.RateLimitError):
        send()
    client.messaging_profiles.update(profile, daily_spend_limit_enabled=False)
    send()
    rows = server.query(
        "SELECT count(*) AS n FROM messages WHERE messaging_profile_id = :p AND direction ="
        " 'outbound'",
        p=profile,
    )
    assert rows[0]["n"] == 5  # 4 sent today + yesterday's; refused sends left no row


def test_spend_limit_holds_under_concurrent_sends(client: telnyx.Telnyx) -> None:
    profile = new_profile(client, daily_spend_limit="0.02", daily_spend_limit_enabled=True)
    sender = _sender(client, profile)

    def send(_: int) -> str:
        try:
            client.messages.send(from_=sender, to="+13125550100", text="race")
        except telnyx.RateLimitError as exc:
            return str(exc.body["errors"][0]["code"])  # type: ignore[index]
        return "accepted"

    with ThreadPoolExecutor(12) as pool:
        outcomes = sorted(pool.map(send, range(12)))
    assert outcomes.count("accepted") == 5
    assert outcomes.count("40333") == 7


def test_spend_limit_counts_every_recipient_of_a_group_mms(client: telnyx.Telnyx) -> None:
    # A US MMS costs 0.0150 per recipient: two fit in 0.0300, three do not.
    profile = new_profile(client, daily_spend_limit="0.0300", daily_spend_limit_enabled=True)
    sender = _sender(client, profile)
    media = ["https://example.com/cat.jpg"]
    three = ["+13125550100", "+13125550111", "+13125550112"]
    with pytest.raises(telnyx.RateLimitError) as err:
        client.messages.send_group_mms(from_=sender, to=three, media_urls=media)
    assert err.value.body["errors"][0]["code"] == "40333"  # type: ignore[index]
    sent = client.messages.send_group_mms(from_=sender, to=three[:2], media_urls=media).data
    assert sent is not None and sent.to is not None and len(sent.to) == 2


def test_mobile_only(server: Server, client: telnyx.Telnyx) -> None:
    profile = new_profile(client, whitelisted_destinations=["US", "GB"], mobile_only=True)
    sender = _sender(client, profile)
    for landline in ("+18885550123", "+442079460000"):  # toll-free, London fixed line
        with pytest.raises(telnyx.PermissionDeniedError) as err:
            client.messages.send(from_=sender, to=landline, text="mobile only")
        error = err.value.body["errors"][0]  # type: ignore[index]
        assert (error["code"], error["source"]) == ("40334", {"pointer": "/to"})
    for mobile in ("+447400999999", "+13125550100"):  # UK mobile; US numbers may be mobile
        client.messages.send(from_=sender, to=mobile, text="mobile only")
    client.messaging_profiles.update(profile, mobile_only=False)
    client.messages.send(from_=sender, to="+442079460000", text="any line now")
    rows = server.query(
        "SELECT count(*) AS n FROM messages WHERE messaging_profile_id = :p", p=profile
    )
    assert rows[0]["n"] == 3


def test_disabled_profile_refuses_sends(client: telnyx.Telnyx) -> None:
    profile = new_profile(client)
    sender = _sender(client, profile)
    client.messaging_profiles.update(profile, enabled=False)
    with pytest.raises(telnyx.PermissionDeniedError) as err:
        client.messages.send(from_=sender, to="+13125550100", text="disabled")
    assert err.value.body["errors"][0]["code"] == "40307"  # type: ignore[index]
    client.messaging_profiles.update(profile, enabled=True)
    client.messages.send(from_=sender, to="+13125550100", text="enabled again")
