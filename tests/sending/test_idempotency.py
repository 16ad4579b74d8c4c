"""Idempotency-Key on the send endpoints (DECISIONS item 6, common.md §7)."""

from __future__ import annotations

import hashlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import telnyx

from tests.harness import Server
from tests.sending.helpers import error_of, in_seconds, loose_client, new_sender


def count_from(server: Server, sender: str) -> int:
    rows = server.query("SELECT COUNT(*) AS n FROM messages WHERE from_address = :f", f=sender)
    return int(rows[0]["n"])


def test_same_key_same_body_replays_the_first_answer(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    first = client.messages.with_raw_response.send(
        from_=sender, to="+13125550100", text="Once only", idempotency_key=key
    )
    assert "idempotent-replayed" not in first.headers
    second = client.messages.with_raw_response.send(
        from_=sender, to="+13125550100", text="Once only", idempotency_key=key
    )
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/json"
    assert second.http_response.content == first.http_response.content
    data = second.parse().data  # strict validation of the replayed body
    assert data is not None and data.id == first.parse().data.id  # type: ignore[union-attr]
    assert data.to and data.to[0].status == "queued"  # the first answer, not today's status
    assert count_from(server, sender) == 1


def test_same_key_different_body_is_422(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = "order-1234:confirmation"
    client.messages.send(from_=sender, to="+13125550100", text="Version 1", idempotency_key=key)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send(from_=sender, to="+13125550100", text="Version 2", idempotency_key=key)
    error = error_of(err.value)
    assert error["code"] == "40342"
    assert error["source"] == {"parameter": "Idempotency-Key"}
    assert count_from(server, sender) == 1


@pytest.mark.parametrize("key", ["has space", "x" * 256, "dot.ted", "semi;colon"])
def test_malformed_key_is_422(server: Server, client: telnyx.Telnyx, key: str) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.with_raw_response.send(
            from_=sender,
            to="+13125550100",
            text="x",
            extra_headers={"Idempotency-Key": key},
        )
    assert error_of(err.value)["code"] == "40341"
    assert count_from(server, sender) == 0
    assert server.query("SELECT id FROM idempotency_keys WHERE key = :k", k=key) == []


def test_keys_are_scoped_to_account_and_endpoint(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    a = client.messages.send(from_=sender, to="+13125550100", text="x", idempotency_key=key)
    # Another endpoint with the same key is another request.
    b = client.messages.send_long_code(
        from_=sender, to="+13125550100", text="x", idempotency_key=key
    )
    assert a.data and b.data and a.data.id != b.data.id
    # Another account with the same key and body is independent of this one.
    other = server.client(server.new_account_key("idempotency-other"))
    _, other_sender = new_sender(other)
    c = other.messages.send(from_=other_sender, to="+13125550100", text="x", idempotency_key=key)
    assert c.data and c.data.id not in (a.data.id, b.data.id)
    assert count_from(server, sender) == 2 and count_from(server, other_sender) == 1


def test_failed_request_leaves_the_key_free(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.messages.send(from_=sender, to="13125550100", text="x", idempotency_key=key)
    assert server.query("SELECT id FROM idempotency_keys WHERE key = :k", k=key) == []
    sent = client.messages.send(from_=sender, to="+13125550100", text="x", idempotency_key=key)
    assert sent.data is not None
    assert count_from(server, sender) == 1


def test_concurrent_duplicates_send_once(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())

    def attempt(_: int) -> tuple[int, str | None, str | None]:
        try:
            raw = client.messages.with_raw_response.send(
                from_=sender, to="+13125550100", text="Race", idempotency_key=key
            )
        except telnyx.ConflictError as exc:
            assert exc.response.headers["x-should-retry"] == "true"
            assert error_of(exc)["code"] == "40343"
            return 409, None, None
        data = raw.parse().data
        assert data is not None
        return 200, data.id, raw.headers.get("idempotent-replayed")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    ids = {r[1] for r in results if r[0] == 200}
    assert len(ids) == 1
    assert count_from(server, sender) == 1
    assert sum(1 for r in results if r[0] == 200 and r[2] is None) == 1


def _fingerprint(body: bytes) -> str:
    return hashlib.sha256(b"\n" + body).hexdigest()


def _account_id(server: Server, sender: str) -> str:
    rows = server.query("SELECT account_id FROM phone_numbers WHERE phone_number = :p", p=sender)
    return str(rows[0]["account_id"])


def _insert_in_flight(
    server: Server, account_id: str, key: str, body: bytes, created_at: datetime
) -> None:
    server.execute(
        "INSERT INTO idempotency_keys (id, account_id, key, method, path, fingerprint, state,"
        " created_at, expires_at) VALUES (:id, :a, :k, 'POST', '/v2/messages', :f,"
        " 'in_flight', :c, :e)",
        id=str(uuid.uuid4()),
        a=account_id,
        k=key,
        f=_fingerprint(body),
        c=created_at,
        e=created_at + timedelta(hours=24),
    )


def test_duplicate_while_first_in_flight_is_409(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    body = json.dumps({"from": sender, "to": "+13125550100", "text": "slow"}).encode()
    _insert_in_flight(server, _account_id(server, sender), key, body, datetime.now(UTC))
    headers = {
        "Authorization": f"Bearer {server.api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    response = httpx.post(f"{server.api_url}/messages", content=body, headers=headers)
    assert response.status_code == 409
    assert response.headers["x-should-retry"] == "true"
    assert response.json()["errors"][0]["code"] == "40343"
    # A different body with that key is still a 422, even while the first runs.
    other = body.replace(b"slow", b"fast")
    assert (
        httpx.post(f"{server.api_url}/messages", content=other, headers=headers).status_code == 422
    )
    assert count_from(server, sender) == 0


def test_abandoned_in_flight_key_is_taken_over(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    body = json.dumps({"from": sender, "to": "+13125550100", "text": "crashed"}).encode()
    created = datetime.now(UTC) - timedelta(minutes=5)  # its request died long ago
    _insert_in_flight(server, _account_id(server, sender), key, body, created)
    headers = {
        "Authorization": f"Bearer {server.api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    response = httpx.post(f"{server.api_url}/messages", content=body, headers=headers)
    assert response.status_code == 200
    assert count_from(server, sender) == 1


def test_expired_key_sends_again(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    first = client.messages.send(from_=sender, to="+13125550100", text="x", idempotency_key=key)
    server.execute(
        "UPDATE idempotency_keys SET expires_at = :t WHERE key = :k",
        t=datetime.now(UTC) - timedelta(seconds=1),
        k=key,
    )
    again = client.messages.send(from_=sender, to="+13125550100", text="x", idempotency_key=key)
    assert first.data and again.data and first.data.id != again.data.id
    assert count_from(server, sender) == 2


def test_schedule_endpoint_honours_the_header(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    loose = loose_client(server)  # scheduled responses: see helpers.loose_client
    send_at = in_seconds(900).isoformat()
    first = loose.messages.with_raw_response.schedule(
        from_=sender,
        to="+13125550100",
        text="x",
        send_at=send_at,
        extra_headers={"Idempotency-Key": key},
    )
    second = loose.messages.with_raw_response.schedule(
        from_=sender,
        to="+13125550100",
        text="x",
        send_at=send_at,
        extra_headers={"Idempotency-Key": key},
    )
    assert second.headers["idempotent-replayed"] == "true"
    assert first.http_response.json() == second.http_response.json()
    assert count_from(server, sender) == 1
