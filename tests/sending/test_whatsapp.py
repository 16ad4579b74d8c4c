"""WhatsApp messages: `POST /messages/whatsapp`, its narrower answer, the usual lifecycle."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import telnyx

from switchboard.domain import whatsapp
from tests.harness import Server, wait_for
from tests.sending.helpers import error_of, final_row, new_sender, row, statuses


def test_text_message_lifecycle(server: Server, client: telnyx.Telnyx) -> None:
    profile_id, sender = new_sender(client)
    sent = client.messages.whatsapp(
        from_=sender,
        to="+13125550100",
        whatsapp_message={"type": "text", "text": {"body": "Hello on WhatsApp"}},
        webhook_url="http://127.0.0.1:9/hooks",
    )
    data = sent.data
    assert data is not None and data.id and data.to and data.body and data.from_
    assert (data.type, data.direction, data.record_type) == ("WHATSAPP", "outbound", "message")
    assert data.messaging_profile_id == profile_id
    assert data.from_.phone_number == sender and data.from_.status is None
    assert data.to[0].phone_number == "+13125550100" and data.to[0].status == "queued"
    assert data.body.text is not None and data.body.text.body == "Hello on WhatsApp"

    stored = row(server, data.id)
    assert (stored["type"], stored["text"]) == ("WHATSAPP", "Hello on WhatsApp")
    assert final_row(server, data.id)["status"] == "delivered"
    assert statuses(server, data.id) == ["queued", "sending", "sent", "delivered"]

    fetched = client.messages.retrieve(data.id).data
    assert fetched is not None and fetched.type == "WHATSAPP" and fetched.body is not None
    assert fetched.body.text == "Hello on WhatsApp"
    assert fetched.to and fetched.to[0].status == "delivered"

    def hooks() -> list[dict[str, Any]] | None:
        rows = server.query(
            "SELECT event_type, data FROM webhook_events WHERE message_id = :i", i=data.id
        )
        return rows if len(rows) == 2 else None

    events = {r["event_type"]: json.loads(r["data"]) for r in wait_for(hooks)}
    assert set(events) == {"message.sent", "message.finalized"}
    assert events["message.finalized"]["payload"]["type"] == "WHATSAPP"


def test_echo_follows_the_response_model(client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    contact = {
        "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada"},
        "phones": [{"phone": "+13125550100", "type": "CELL"}],
    }
    sent = client.messages.whatsapp(
        from_=sender,
        to="+13125550100",
        whatsapp_message={"type": "contacts", "contacts": [contact]},
    ).data
    assert sent is not None and sent.body and sent.body.contacts
    assert sent.body.contacts[0].name == "Ada Lovelace"  # a string in the response model

    flow = client.messages.whatsapp(
        from_=sender,
        to="+13125550100",
        whatsapp_message={
            "type": "interactive",
            "interactive": {
                "type": "flow",
                "body": {"text": "Book a table"},
                "action": {"name": "flow", "parameters": {"flow_id": "123", "flow_cta": "Book"}},
            },
        },
    ).data
    assert flow is not None and flow.body and flow.body.interactive
    assert flow.body.interactive.type is None  # `flow` is not in the response enum
    assert flow.body.interactive.body and flow.body.interactive.body.text == "Book a table"

    template = client.messages.whatsapp(
        from_=sender,
        to="+13125550100",
        whatsapp_message={
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {
                        "type": "button",
                        "sub_type": "flow",
                        "index": 0,
                        "parameters": [{"type": "action", "action": {"flow_token": "t"}}],
                    }
                ],
            },
        },
    ).data
    assert template is not None and template.body and template.body.template
    component = (template.body.template.components or [])[0]
    assert component.sub_type is None and component.type == "button"
    assert (component.parameters or [])[0].type is None


def test_media_and_user_ids(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client, destinations=["*"])
    image = client.messages.whatsapp(
        from_=sender,
        to="US.13491208655302741918",  # a business-scoped user id instead of a number
        whatsapp_message={
            "type": "image",
            "image": {"link": "https://example.com/menu.jpg", "caption": "Today's menu"},
        },
    ).data
    assert image is not None and image.id and image.to
    assert image.to[0].phone_number == "US.13491208655302741918"
    assert image.body and image.body.image and image.body.image.link
    stored = final_row(server, image.id)
    assert (stored["status"], stored["text"], stored["to_country"]) == (
        "delivered",
        "Today's menu",
        "US",
    )


@pytest.mark.parametrize(
    ("message", "pointer"),
    [
        ({"type": "text"}, "/whatsapp_message/text"),
        ({"type": "text", "text": {"body": ""}}, "/whatsapp_message/text/body"),
        ({"type": "text", "text": {"body": "x" * 4097}}, "/whatsapp_message/text/body"),
        ({"type": "telegram"}, "/whatsapp_message/type"),
        ({}, "/whatsapp_message/type"),
        ({"type": "image", "image": {"caption": "no link"}}, "/whatsapp_message/image/link"),
        (
            {"type": "template", "template": {"language": {"code": "en"}}},
            "/whatsapp_message/template/name",
        ),
        (
            {"type": "template", "template": {"name": "t"}},
            "/whatsapp_message/template/language",
        ),
        (
            {"type": "contacts", "contacts": [{"name": {"first_name": "A"}}]},
            "/whatsapp_message/contacts/0/name/formatted_name",
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "action": {
                        "buttons": [{"type": "reply", "reply": {"id": "1", "title": "x" * 21}}]
                    },
                },
            },
            "/whatsapp_message/interactive/action/buttons/0/reply/title",
        ),
        ({"type": "interactive", "interactive": {}}, "/whatsapp_message/interactive/type"),
        (
            {"type": "location", "location": {"latitude": "1"}},
            "/whatsapp_message/location/longitude",
        ),
    ],
)
def test_invalid_content_is_422(
    server: Server, client: telnyx.Telnyx, message: dict[str, Any], pointer: str
) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.whatsapp(
            from_=sender,
            to="+13125550100",
            whatsapp_message=message,  # type: ignore[arg-type]
        )
    error = error_of(err.value)
    assert (error["code"], error["source"]) == ("10025", {"pointer": pointer})
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_request_level_errors(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    text = {"type": "text", "text": {"body": "hi"}}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"to": "13125550100"}, "40310", "/to"),
        ({"from_": "+13125559999"}, "40305", "/from"),
        ({"extra_body": {"type": "SMS"}}, "10025", "/type"),
        ({"extra_body": {"whatsapp_message": None}}, "10025", "/whatsapp_message"),
    ]
    for overrides, code, pointer in cases:
        params: dict[str, Any] = {
            "from_": sender,
            "to": "+13125550100",
            "whatsapp_message": text,
            **overrides,
        }
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.messages.whatsapp(**params)
        assert (error_of(err.value)["code"], error_of(err.value)["source"]) == (
            code,
            {"pointer": pointer},
        ), overrides
    _, us_only = new_sender(client, destinations=["US"])
    with pytest.raises(telnyx.PermissionDeniedError) as denied:
        client.messages.whatsapp(from_=us_only, to="+442071838750", whatsapp_message=text)
    assert error_of(denied.value)["code"] == "40311"
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_idempotent_replay(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    message = {"type": "text", "text": {"body": "once"}}
    first = client.messages.with_raw_response.whatsapp(
        from_=sender, to="+13125550100", whatsapp_message=message, idempotency_key=key
    )
    second = client.messages.with_raw_response.whatsapp(
        from_=sender, to="+13125550100", whatsapp_message=message, idempotency_key=key
    )
    assert second.headers["idempotent-replayed"] == "true"
    assert second.parse().data.id == first.parse().data.id  # type: ignore[union-attr]
    assert len(server.query("SELECT id FROM messages WHERE from_address = :f", f=sender)) == 1


def test_echo_helpers() -> None:
    message = {"type": "text", "text": {"body": "hi", "preview_url": True}}
    assert whatsapp.validate(message) == "text"
    assert whatsapp.outbound_body(message) == {"type": "text", "text": "hi"}
    assert whatsapp.echo(message) == message
    assert whatsapp.text_of({"video": {"link": "https://x/v.mp4", "caption": "c"}}) == "c"
    assert whatsapp.message_type({"reaction": {"message_id": "m", "emoji": "👍"}}) == "reaction"
