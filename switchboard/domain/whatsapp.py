"""WhatsApp message content: request checks and the shapes it is echoed back in (messages.md §5).

The request's `whatsapp_message` is kept as sent (unknown keys included, for forward
compatibility). Responses echo it in the SDK's narrower response model: a contact's `name`
object becomes its `formatted_name`, and values the response enums lack (`flow`, `action`)
are left out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from switchboard.domain.clock import iso

MESSAGE_TYPES = (
    "audio",
    "document",
    "image",
    "sticker",
    "video",
    "interactive",
    "location",
    "template",
    "reaction",
    "contacts",
    "text",
)
MEDIA_TYPES = ("audio", "document", "image", "sticker", "video")
INTERACTIVE_TYPES = ("cta_url", "list", "carousel", "button", "location_request_message", "flow")
HEADER_TYPES = ("document", "image", "text", "video")
COMPONENT_TYPES = ("header", "body", "button")
COMPONENT_SUB_TYPES = ("quick_reply", "url", "flow")
PARAMETER_TYPES = ("text", "image", "video", "document", "currency", "date_time", "action")
TEXT_LIMIT = 4096

# A WhatsApp business-scoped user id, for users who hide their number: `US.1349…`.
BSUID = re.compile(r"^[A-Z]{2}\.\d{6,40}$")


class InvalidContent(ValueError):
    """`pointer` is relative to the request body, e.g. `/whatsapp_message/text/body`."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(reason)
        self.pointer = pointer
        self.reason = reason


_ROOT = "/whatsapp_message"


def _object(value: Any, pointer: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidContent(pointer, "must be an object")
    return value


def _string(
    obj: Mapping[str, Any],
    key: str,
    pointer: str,
    *,
    required: bool = False,
    max_length: int | None = None,
) -> None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidContent(f"{pointer}/{key}", "is required")
        return
    if not isinstance(value, str) or (required and not value):
        raise InvalidContent(f"{pointer}/{key}", "must be a non-empty string")
    if max_length is not None and len(value) > max_length:
        raise InvalidContent(f"{pointer}/{key}", f"must be at most {max_length} characters")


def _choice(obj: Mapping[str, Any], key: str, choices: tuple[str, ...], pointer: str) -> None:
    value = obj.get(key)
    if value is not None and value not in choices:
        raise InvalidContent(f"{pointer}/{key}", f"must be one of: {', '.join(choices)}")


def _list(obj: Mapping[str, Any], key: str, pointer: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidContent(f"{pointer}/{key}", "must be an array")
    return value


def _media(value: Any, pointer: str) -> None:
    media = _object(value, pointer)
    _string(media, "link", pointer, required=True)
    if not str(media["link"]).lower().startswith(("http://", "https://")):
        raise InvalidContent(f"{pointer}/link", "must be an http(s) URL")
    _string(media, "caption", pointer, max_length=1024)
    _string(media, "filename", pointer)


def message_type(message: Mapping[str, Any]) -> str:
    """The message's type: `type`, or the one content key present when `type` is left out."""
    declared = message.get("type")
    if declared is not None:
        return str(declared)
    present = [t for t in MESSAGE_TYPES if message.get(t) is not None]
    if len(present) != 1:
        raise InvalidContent(
            f"{_ROOT}/type", "is required unless exactly one kind of content is given"
        )
    return present[0]


def validate(value: Any) -> str:
    """Check a request's `whatsapp_message`; its type, or InvalidContent naming the field."""
    message = _object(value, _ROOT)
    _choice(message, "type", MESSAGE_TYPES, _ROOT)
    kind = message_type(message)
    pointer = f"{_ROOT}/{kind}"
    content = message.get(kind)
    if content is None:
        raise InvalidContent(pointer, f"is required for a {kind} message")
    if kind == "text":
        text = _object(content, pointer)
        _string(text, "body", pointer, required=True, max_length=TEXT_LIMIT)
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise InvalidContent(f"{pointer}/preview_url", "must be a boolean")
    elif kind in MEDIA_TYPES:
        _media(content, pointer)
    elif kind == "location":
        location = _object(content, pointer)
        for key in ("latitude", "longitude"):
            _string(location, key, pointer, required=True)
    elif kind == "reaction":
        reaction = _object(content, pointer)
        _string(reaction, "message_id", pointer, required=True)
        if not isinstance(reaction.get("emoji", ""), str):
            raise InvalidContent(f"{pointer}/emoji", "must be a string")
    elif kind == "contacts":
        _contacts(content, pointer)
    elif kind == "template":
        _template(_object(content, pointer), pointer)
    elif kind == "interactive":
        _interactive(_object(content, pointer), pointer)
    _string(message, "biz_opaque_callback_data", _ROOT, max_length=512)
    return kind


def _contacts(value: Any, pointer: str) -> None:
    if not isinstance(value, list) or not value:
        raise InvalidContent(pointer, "must be a non-empty array of contacts")
    for index, item in enumerate(value):
        contact = _object(item, f"{pointer}/{index}")
        name = _object(contact.get("name"), f"{pointer}/{index}/name")
        _string(name, "formatted_name", f"{pointer}/{index}/name", required=True)


def _template(template: Mapping[str, Any], pointer: str) -> None:
    if template.get("template_id") is None:
        _string(template, "name", pointer, required=True)
        language = _object(template.get("language"), f"{pointer}/language")
        _string(language, "code", f"{pointer}/language", required=True)
    for index, item in enumerate(_list(template, "components", pointer)):
        where = f"{pointer}/components/{index}"
        component = _object(item, where)
        _choice(component, "type", COMPONENT_TYPES, where)
        _choice(component, "sub_type", COMPONENT_SUB_TYPES, where)
        if component.get("type") == "button" and not isinstance(component.get("index"), int):
            raise InvalidContent(f"{where}/index", "is required (an integer) for buttons")
        for p_index, parameter in enumerate(_list(component, "parameters", where)):
            _choice(
                _object(parameter, f"{where}/parameters/{p_index}"),
                "type",
                PARAMETER_TYPES,
                f"{where}/parameters/{p_index}",
            )


def _interactive(interactive: Mapping[str, Any], pointer: str) -> None:
    if interactive.get("type") is None:
        raise InvalidContent(f"{pointer}/type", "is required")
    _choice(interactive, "type", INTERACTIVE_TYPES, pointer)
    if interactive.get("header") is not None:
        header = _object(interactive["header"], f"{pointer}/header")
        _choice(header, "type", HEADER_TYPES, f"{pointer}/header")
        _string(header, "text", f"{pointer}/header", max_length=60)
    for part, limit in (("body", 1024), ("footer", 60)):
        if interactive.get(part) is not None:
            _string(
                _object(interactive[part], f"{pointer}/{part}"),
                "text",
                f"{pointer}/{part}",
                max_length=limit,
            )
    if interactive.get("action") is None:
        return
    where = f"{pointer}/action"
    action = _object(interactive["action"], where)
    for index, item in enumerate(_list(action, "buttons", where)):
        button = _object(item, f"{where}/buttons/{index}")
        _choice(button, "type", ("reply",), f"{where}/buttons/{index}")
        reply = _object(button.get("reply") or {}, f"{where}/buttons/{index}/reply")
        _string(reply, "id", f"{where}/buttons/{index}/reply", max_length=256)
        _string(reply, "title", f"{where}/buttons/{index}/reply", max_length=20)
    for index, item in enumerate(_list(action, "sections", where)):
        section = _object(item, f"{where}/sections/{index}")
        _string(section, "title", f"{where}/sections/{index}", max_length=24)
        for r_index, row_item in enumerate(_list(section, "rows", f"{where}/sections/{index}")):
            at = f"{where}/sections/{index}/rows/{r_index}"
            row = _object(row_item, at)
            _string(row, "id", at, max_length=200)
            _string(row, "title", at, max_length=24)
            _string(row, "description", at, max_length=72)
    for index, item in enumerate(_list(action, "cards", where)):
        at = f"{where}/cards/{index}"
        card = _object(item, at)
        card_index = card.get("card_index")
        if card_index is not None and (not isinstance(card_index, int) or not 0 <= card_index <= 9):
            raise InvalidContent(f"{at}/card_index", "must be an integer from 0 to 9")
        _choice(card, "type", ("cta_url",), at)
        if card.get("body") is not None:
            _string(_object(card["body"], f"{at}/body"), "text", f"{at}/body", max_length=160)
    if action.get("parameters") is not None:
        parameters = _object(action["parameters"], f"{where}/parameters")
        _string(parameters, "display_text", f"{where}/parameters", max_length=20)


def echo(message: Mapping[str, Any]) -> dict[str, Any]:
    """The content as `MessageWhatsappResponse.body` (the SDK's narrower response model)."""
    out = copy.deepcopy(dict(message))
    for contact in out.get("contacts") or []:
        if isinstance(contact, dict) and isinstance(contact.get("name"), dict):
            formatted = contact["name"].get("formatted_name")
            if formatted is None:
                contact.pop("name")
            else:
                contact["name"] = formatted
    interactive = out.get("interactive")
    if isinstance(interactive, dict) and interactive.get("type") == "flow":
        interactive.pop("type")
    template = out.get("template")
    if isinstance(template, dict):
        for component in template.get("components") or []:
            if not isinstance(component, dict):
                continue
            if component.get("sub_type") == "flow":
                component.pop("sub_type")
            for parameter in component.get("parameters") or []:
                if isinstance(parameter, dict) and parameter.get("type") == "action":
                    parameter.pop("type")
    return out


def outbound_body(message: Mapping[str, Any]) -> dict[str, Any]:
    """The content as the message resource's `body` (whose `text` is a string there)."""
    out = echo(message)
    text = out.get("text")
    if isinstance(text, dict):
        out["text"] = text.get("body")
    return out


def text_of(message: Mapping[str, Any]) -> str:
    """The words a person reads: the text body, a caption, or the interactive body text."""
    kind = message.get("type") or next((t for t in MESSAGE_TYPES if t in message), None)
    content = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, Mapping):
        return ""
    if kind == "text":
        return str(content.get("body") or "")
    if kind in MEDIA_TYPES:
        return str(content.get("caption") or "")
    if kind == "interactive" and isinstance(content.get("body"), Mapping):
        return str(content["body"].get("text") or "")
    return ""


def whatsapp_resource(row: Mapping[str, Any], organization_id: str) -> dict[str, Any]:
    """The `POST /messages/whatsapp` answer (`MessageWhatsappResponse.data`).

    `from` has no `status`: the response model only allows `received`/`delivered` there.
    """
    from switchboard.domain.resources import SANDBOX_CARRIER_NAME

    return {
        "record_type": "message",
        "direction": "outbound",
        "id": row["id"],
        "type": "WHATSAPP",
        "encoding": "utf-8",
        "messaging_profile_id": row["messaging_profile_id"],
        "organization_id": organization_id,
        "received_at": iso(row["received_at"]),
        "wait_seconds": float(row["wait_seconds"] or 0.0),
        "from": {
            "phone_number": row["from_address"],
            "carrier": SANDBOX_CARRIER_NAME,
            "line_type": row["from_line_type"],
        },
        "to": [
            {
                "phone_number": row["to_address"],
                "status": row["status"],
                "carrier": SANDBOX_CARRIER_NAME,
                "line_type": row["to_line_type"],
            }
        ],
        "body": echo(row["body"] or {}),
    }
