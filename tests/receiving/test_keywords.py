"""STOP / START / HELP: auto-replies, the 40300 block, scheduled messages, custom keywords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import telnyx

from switchboard.domain.keywords import DEFAULT_REPLIES
from tests.harness import Server, new_number, wait_for
from tests.receiving.conftest import (
    Line,
    conversation,
    handset_sends,
    new_handset,
    open_line,
    wait_conversation,
)

pytestmark = pytest.mark.timeout(30)

AUTO_TEXTS = {*DEFAULT_REPLIES.values(), "Ciao!", "Aide: STOP pour arrêter."}


def optouts_of(client: telnyx.Telnyx, profile_id: str) -> list[Any]:
    return list(client.messaging_optouts.list(filter={"messaging_profile_id": profile_id}))


def replies_to(
    client: telnyx.Telnyx, handset: str, count: int, auto_only: bool = True
) -> list[dict[str, Any]]:
    """What the handset received (auto-replies only by default), once `count` arrived."""

    def outbound() -> list[dict[str, Any]]:
        return [
            m
            for m in conversation(client, handset)
            if m["direction"] == "outbound" and (not auto_only or m["text"] in AUTO_TEXTS)
        ]

    return wait_for(lambda: len(outbound()) >= count and outbound())  # type: ignore[no-any-return]


def blocked(client: telnyx.Telnyx, sender: str, to: str) -> telnyx.ConflictError:
    with pytest.raises(telnyx.ConflictError) as caught:
        client.messages.send(from_=sender, to=to, text="are you there?")
    return caught.value


def test_stop_blocks_start_unblocks_help_helps(
    server: Server, client: telnyx.Telnyx, line: Line
) -> None:
    handset = new_handset()
    stop = handset_sends(client, handset, line.number, "  Stop \n")
    inbound = client.messages.retrieve(stop["message_id"]).data
    assert inbound is not None and inbound.autoresponse_type == "STOP"
    assert inbound.text == "  Stop \n"
    replies = replies_to(client, handset, 1)
    assert replies[0]["text"] == DEFAULT_REPLIES["stop"]
    assert replies[0]["from"] == line.number

    # Every number of the profile is blocked, not only the one that got the STOP.
    second = new_number("+1773555")
    client.number_orders.create(
        phone_numbers=[{"phone_number": second}], messaging_profile_id=line.profile_id
    )
    for sender in (line.number, second):
        error = blocked(client, sender, handset)
        assert error.status_code == 409
        assert error.response.headers["x-should-retry"] == "false"
        body: Any = error.body
        assert body["errors"][0]["code"] == "40300"
        assert body["errors"][0]["title"] == "Blocked due to STOP message"
        assert body["errors"][0]["detail"] == (
            f"Messages cannot be sent from '{sender}' to '{handset}' due to an existing block rule."
        )
    # Nothing was stored for the refused sends; another profile may still send.
    assert len(server.query("SELECT id FROM messages WHERE to_address = :h", h=handset)) == 1
    other = open_line(client)
    assert client.messages.send(from_=other.number, to=handset, text="other brand").data

    optouts = optouts_of(client, line.profile_id)
    assert [(o.from_, o.to, o.keyword) for o in optouts] == [(line.number, handset, "STOP")]

    help_ = handset_sends(client, handset, second, "help")
    assert client.messages.retrieve(help_["message_id"]).data.autoresponse_type == "HELP"
    assert replies_to(client, handset, 2)[1]["text"] == DEFAULT_REPLIES["info"]
    assert blocked(client, line.number, handset).status_code == 409  # HELP changes nothing

    start = handset_sends(client, handset, line.number, "UNSTOP")
    assert client.messages.retrieve(start["message_id"]).data.autoresponse_type == "START"
    assert replies_to(client, handset, 3)[2]["text"] == DEFAULT_REPLIES["start"]
    assert optouts_of(client, line.profile_id) == []
    assert client.messages.send(from_=line.number, to=handset, text="welcome back").data

    # The app heard every keyword too, each marked with its autoresponse_type.
    autoresponses = server.query(
        "SELECT autoresponse_type FROM messages WHERE direction = 'inbound' "
        "AND from_address = :h ORDER BY received_at",
        h=handset,
    )
    assert [r["autoresponse_type"] for r in autoresponses] == ["STOP", "HELP", "START"]
    sent_to_handset = client_view(server, handset)
    assert [("autoresponse" in str(r["tags"])) for r in sent_to_handset] == [
        True,  # STOP reply
        False,  # the other profile's message
        True,  # HELP reply
        True,  # START reply
        False,  # welcome back
    ]


def client_view(server: Server, handset: str) -> list[dict[str, Any]]:
    return server.query(
        "SELECT tags FROM messages WHERE direction = 'outbound' AND to_address = :h "
        "ORDER BY received_at",
        h=handset,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        ("\tStOp  ", "STOP"),
        ("stop all", "STOP"),
        ("  STOP   ALL ", "STOP"),
        ("Unsubscribe", "STOP"),
        ("quit", "STOP"),
        ("optout", "STOP"),
        ("info", "HELP"),
        ("Yes", "START"),
        ("please stop", None),
        ("STOP!", None),
        ("S TOP", None),
        ("", None),
        ("   ", None),
    ],
)
def test_keyword_spacing_and_case(
    client: telnyx.Telnyx, line: Line, text: str, expected: str | None
) -> None:
    handset = new_handset()
    sent = handset_sends(client, handset, line.number, text, media_urls=["https://e.com/a.gif"])
    message = client.messages.retrieve(sent["message_id"]).data
    assert message is not None and message.autoresponse_type == expected
    optouts = optouts_of(client, line.profile_id)
    assert [o.to for o in optouts] == ([handset] if expected == "STOP" else [])


def test_stop_cancels_scheduled_messages(server: Server, client: telnyx.Telnyx, line: Line) -> None:
    handset, bystander = new_handset(), new_handset()
    send_at = datetime.now(UTC) + timedelta(hours=1)
    loose = telnyx.Telnyx(api_key=server.api_key, base_url=server.api_url, max_retries=0)
    ids = []
    for to in (handset, bystander):
        scheduled = loose.messages.schedule(
            from_=line.number, to=to, text="later", send_at=send_at.isoformat()
        ).data
        assert scheduled is not None and scheduled.id
        ids.append(scheduled.id)
    handset_sends(client, handset, line.number, "STOP")
    statuses = {
        r["id"]: (r["status"], r["errors"])
        for r in server.query(
            "SELECT id, status, errors FROM messages WHERE id IN (:a, :b)", a=ids[0], b=ids[1]
        )
    }
    assert statuses[ids[0]][0] == "cancelled"
    assert "40300" in str(statuses[ids[0]][1])
    assert statuses[ids[1]][0] == "scheduled"
    events = server.query(
        "SELECT status FROM message_events WHERE message_id = :m ORDER BY occurred_at", m=ids[0]
    )
    assert [e["status"] for e in events] == ["cancelled"]  # `scheduled` is the row's own


def test_custom_keywords_and_replies_per_country(client: telnyx.Telnyx, line: Line) -> None:
    configs = client.messaging_profiles.autoresp_configs
    configs.create(
        line.profile_id,
        op="stop",
        keywords=["BASTA", "Fin del mundo"],
        country_code="US",
        resp_text="Ciao!",
    )
    configs.create(line.profile_id, op="stop", keywords=["HALT"], country_code="DE")
    configs.create(
        line.profile_id,
        op="info",
        keywords=["AIDE"],
        country_code="*",
        resp_text="Aide: STOP pour arrêter.",
    )
    configs.create(line.profile_id, op="start", keywords=["JOIN"], country_code="*")

    us = new_handset()
    assert handset_sends(client, us, line.number, " basta ")["message_id"]
    assert replies_to(client, us, 1)[0]["text"] == "Ciao!"
    # A built-in keyword uses the profile's own reply for its operation.
    handset_sends(client, us, line.number, "STOP")
    assert replies_to(client, us, 2)[1]["text"] == "Ciao!"
    # A German-only keyword means nothing from a US handset.
    halt = handset_sends(client, us, line.number, "halt")
    assert client.messages.retrieve(halt["message_id"]).data.autoresponse_type is None
    aide = handset_sends(client, us, line.number, "aide")
    assert client.messages.retrieve(aide["message_id"]).data.autoresponse_type == "HELP"
    assert replies_to(client, us, 3)[2]["text"] == "Aide: STOP pour arrêter."
    # A config without resp_text changes the opt-out state but sends no reply.
    join = handset_sends(client, us, line.number, "Join")
    assert client.messages.retrieve(join["message_id"]).data.autoresponse_type == "START"
    assert optouts_of(client, line.profile_id) == []
    spaced = handset_sends(client, us, line.number, "fin  DEL mundo")
    assert client.messages.retrieve(spaced["message_id"]).data.autoresponse_type == "STOP"
    assert len(replies_to(client, us, 4)) == 4
    assert len(wait_conversation(client, us, 10)) == 10
