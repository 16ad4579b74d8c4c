"""Accounts never see or touch each other's data: other account's ids are simply 404."""

from __future__ import annotations

import pytest
import telnyx

from tests.harness import Server


def test_accounts_are_isolated(
    server: Server, client: telnyx.Telnyx, profile_id: str, sender: str
) -> None:
    other = server.client(api_key=server.new_account_key("isolated"))
    message = client.messages.send(from_=sender, to="+13125550100", text="private").data
    assert message is not None and message.id

    with pytest.raises(telnyx.NotFoundError):
        other.messages.retrieve(message.id)
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.retrieve(profile_id)
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.update(profile_id, name="hijacked")
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.delete(profile_id)
    with pytest.raises(telnyx.NotFoundError):
        other.phone_numbers.retrieve(sender)
    assert all(p.id != profile_id for p in other.messaging_profiles.list())
    assert all(n.phone_number != sender for n in other.phone_numbers.list())

    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        other.messages.send(from_=sender, to="+13125550100", text="spoofed")
    assert err.value.body["errors"][0]["code"] == "40305"  # type: ignore[index]
    with pytest.raises(telnyx.UnprocessableEntityError):
        other.number_orders.create(
            phone_numbers=[{"phone_number": "+13125557777"}], messaging_profile_id=profile_id
        )

    mine = client.messaging_profiles.retrieve(profile_id).data
    assert mine is not None and mine.name == "Test profile"
