"""Bad input: a clear Telnyx-shaped 4xx naming the field, and nothing changes."""

from __future__ import annotations

import httpx
import pytest
import telnyx

from tests.harness import Server


def count_messages(server: Server) -> int:
    return int(server.query("SELECT COUNT(*) AS n FROM messages")[0]["n"])


def error_of(exc: telnyx.APIStatusError) -> dict[str, object]:
    body = exc.body
    assert isinstance(body, dict)
    (error,) = body["errors"]
    assert isinstance(error, dict)
    assert isinstance(error["code"], str) and error["title"]
    return error


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "pointer"),
    [
        ({"to": "+13125550100"}, 422, "10004", "/text"),
        ({"to": "13125550100", "text": "x"}, 422, "40310", "/to"),
        ({"to": "+1 312 555 0100", "text": "x"}, 422, "40310", "/to"),
        ({"to": "+99912345", "text": "x"}, 422, "40310", "/to"),
        ({"to": "+13125550100", "text": ""}, 422, "10004", "/text"),
        (
            {"to": "+13125550100", "text": "x", "type": "SMS", "media_urls": ["https://e.x/a.png"]},
            422,
            "10025",
            "/type",
        ),
        (
            {"to": "+13125550100", "text": "x", "webhook_url": "ftp://example.com/hook"},
            422,
            "10025",
            "/webhook_url",
        ),
        ({"to": "+13125550100", "text": "x", "encoding": "latin1"}, 422, "10025", "/encoding"),
        ({"to": "+13125550100", "text": "Привет", "encoding": "gsm7"}, 400, "40319", "/text"),
        ({"to": "+13125550100", "text": "x" * 1600, "auto_detect": True}, 422, "40320", "/text"),
    ],
)
def test_send_rejects_bad_fields(
    server: Server,
    client: telnyx.Telnyx,
    sender: str,
    kwargs: dict[str, object],
    status: int,
    code: str,
    pointer: str,
) -> None:
    before = count_messages(server)
    with pytest.raises(telnyx.APIStatusError) as err:
        client.messages.send(from_=sender, **kwargs)  # type: ignore[arg-type]
    assert err.value.status_code == status
    error = error_of(err.value)
    assert error["code"] == code
    assert error["source"] == {"pointer": pointer}
    assert count_messages(server) == before


def test_send_requires_to(server: Server, client: telnyx.Telnyx, sender: str) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.post("/messages", body={"from": sender, "text": "x"}, cast_to=object)
    assert error_of(err.value)["source"] == {"pointer": "/to"}
    assert error_of(err.value)["code"] == "10004"


def test_from_must_be_owned(server: Server, client: telnyx.Telnyx) -> None:
    before = count_messages(server)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send(from_="+13125559999", to="+13125550100", text="x")
    assert error_of(err.value)["code"] == "40305"
    assert error_of(err.value)["source"] == {"pointer": "/from"}
    assert count_messages(server) == before


def test_destination_outside_whitelist(client: telnyx.Telnyx, sender: str) -> None:
    with pytest.raises(telnyx.PermissionDeniedError) as err:
        client.messages.send(from_=sender, to="+447911123456", text="x")
    assert error_of(err.value)["code"] == "40311"


def raw(server: Server, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.api_key}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.request(method, server.api_url + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_invalid_json(server: Server) -> None:
    response = raw(
        server,
        "POST",
        "/messages",
        content=b'{"to": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "10023"


def test_body_must_be_an_object(server: Server) -> None:
    response = raw(server, "POST", "/messages", json=["+13125550100"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "10015"


def test_wrong_content_type(server: Server) -> None:
    response = raw(
        server,
        "POST",
        "/messages",
        content=b"to=+13125550100",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "10014"


def test_body_over_one_mebibyte(server: Server) -> None:
    before = count_messages(server)
    big = b'{"text": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = raw(
        server, "POST", "/messages", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "10026"
    assert count_messages(server) == before


def test_missing_and_invalid_keys_are_401(server: Server) -> None:
    with pytest.raises(telnyx.AuthenticationError) as err:
        server.client(api_key="KEYnot-a-real-key").messaging_profiles.list()
    assert error_of(err.value)["code"] == "10009"
    response = httpx.get(server.api_url + "/messaging_profiles", timeout=10)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "10009"


def test_unknown_route_and_method(server: Server) -> None:
    assert raw(server, "GET", "/no_such_thing").json()["errors"][0]["code"] == "10005"
    response = raw(server, "PUT", "/messages")
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "10027"


def test_bad_pagination_parameters(client: telnyx.Telnyx) -> None:
    for kwargs in ({"page_size": 0}, {"page_size": 251}, {"page_number": 0}):
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            client.messaging_profiles.list(**kwargs)  # type: ignore[arg-type]
        assert error_of(err.value)["source"]["parameter"] in ("page[size]", "page[number]")  # type: ignore[index]
