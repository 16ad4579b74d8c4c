"""Signatures verified by the official Telnyx SDK and per the Standard Webhooks spec."""

from __future__ import annotations

import base64
import time

import pytest

from switchboard.webhooks.envelope import StoredEvent
from switchboard.webhooks.signing import (
    SigningKeyError,
    WebhookSigner,
    generate_seed,
    load_seed_b64,
    public_key_b64,
    seed_to_b64,
    standard_public_key,
)

from .servers import standard_verify, telnyx_unwrap

pytestmark = pytest.mark.timeout(10)

EVENT = StoredEvent(
    id="9b0f3c47-60c8-4a4e-9d4a-3f1b2f6f0a11",
    event_type="message.finalized",
    occurred_at="2026-01-05T10:00:03.210Z",
    payload={"id": "msg-1", "record_type": "message", "text": "héllo 👋", "to": []},
)


def body() -> bytes:
    return EVENT.render(1, "https://app.example.com/hooks")


def test_headers_shape() -> None:
    seed = generate_seed()
    now = int(time.time())
    headers = WebhookSigner(seed).sign(body(), EVENT.id, now)
    assert set(headers) == {
        "telnyx-timestamp",
        "telnyx-signature-ed25519",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert headers["telnyx-timestamp"] == headers["webhook-timestamp"] == str(now)
    assert headers["webhook-id"] == EVENT.id
    assert len(base64.b64decode(headers["telnyx-signature-ed25519"], validate=True)) == 64
    assert headers["webhook-signature"].startswith("v1a,")
    assert " " not in headers["webhook-signature"]


def test_telnyx_sdk_accepts_signature() -> None:
    seed = generate_seed()
    data = body()
    headers = WebhookSigner(seed).sign(data, EVENT.id, int(time.time()))
    event = telnyx_unwrap(data, headers, public_key_b64(seed))
    assert type(event).__name__ == "DeliveryUpdateWebhookEvent"


def test_standard_webhooks_signature() -> None:
    seed = generate_seed()
    data = body()
    headers = WebhookSigner(seed).sign(data, EVENT.id, int(time.time()))
    assert standard_verify(data, headers, standard_public_key(seed))
    assert not standard_verify(data, headers, standard_public_key(generate_seed()))


def test_tampered_body_rejected() -> None:
    seed = generate_seed()
    data = body()
    headers = WebhookSigner(seed).sign(data, EVENT.id, int(time.time()))
    tampered = data.replace(b'"attempt":1', b'"attempt":2')
    assert tampered != data
    with pytest.raises(ValueError, match="Signature verification failed"):
        telnyx_unwrap(tampered, headers, public_key_b64(seed))
    assert not standard_verify(tampered, headers, standard_public_key(seed))
    # The event id is signed too.
    assert not standard_verify(data, {**headers, "webhook-id": "other"}, standard_public_key(seed))


def test_wrong_key_rejected_by_sdk() -> None:
    data = body()
    headers = WebhookSigner(generate_seed()).sign(data, EVENT.id, int(time.time()))
    with pytest.raises(ValueError, match="Signature verification failed"):
        telnyx_unwrap(data, headers, public_key_b64(generate_seed()))


def test_rotation_both_signatures_in_grace_then_only_new() -> None:
    old, new = generate_seed(), generate_seed()
    now = int(time.time())
    signer = WebhookSigner(new, previous_seed=old, previous_until=now + 60)
    data = body()

    in_grace = signer.sign(data, EVENT.id, now)
    entries = in_grace["webhook-signature"].split(" ")
    assert len(entries) == 2 and all(e.startswith("v1a,") for e in entries)
    assert standard_verify(data, in_grace, standard_public_key(new))
    assert standard_verify(data, in_grace, standard_public_key(old))
    # Current key first, each entry made by its own key.
    assert standard_verify(
        data, {**in_grace, "webhook-signature": entries[0]}, standard_public_key(new)
    )
    assert standard_verify(
        data, {**in_grace, "webhook-signature": entries[1]}, standard_public_key(old)
    )
    # The single-valued telnyx header is always the current key's.
    telnyx_unwrap(data, in_grace, public_key_b64(new))
    with pytest.raises(ValueError):
        telnyx_unwrap(data, in_grace, public_key_b64(old))

    after = signer.sign(data, EVENT.id, now + 60)
    assert len(after["webhook-signature"].split(" ")) == 1
    assert standard_verify(data, after, standard_public_key(new))
    assert not standard_verify(data, after, standard_public_key(old))


def test_previous_without_end_stays_active() -> None:
    signer = WebhookSigner(generate_seed(), previous_seed=generate_seed())
    assert len(signer.active_keys(2**40)) == 2
    assert signer.previous_public_key_b64 is not None


def test_previous_until_needs_previous_key() -> None:
    with pytest.raises(SigningKeyError):
        WebhookSigner(generate_seed(), previous_until=123)


def test_fresh_timestamp_per_attempt() -> None:
    seed = generate_seed()
    signer = WebhookSigner(seed)
    data = body()
    now = int(time.time())
    first, second = signer.sign(data, EVENT.id, now - 200), signer.sign(data, EVENT.id, now)
    assert first["telnyx-timestamp"] != second["telnyx-timestamp"]
    telnyx_unwrap(data, second, public_key_b64(seed))
    stale = signer.sign(data, EVENT.id, now - 400)
    with pytest.raises(ValueError, match="too old"):
        telnyx_unwrap(data, stale, public_key_b64(seed))


def test_seed_round_trip_and_public_key() -> None:
    seed = generate_seed()
    assert len(seed) == 32
    assert load_seed_b64(seed_to_b64(seed)) == seed
    assert load_seed_b64(" " + seed_to_b64(seed) + "\n") == seed
    assert len(base64.b64decode(public_key_b64(seed))) == 32
    assert standard_public_key(seed) == "whpk_" + public_key_b64(seed)
    signer = WebhookSigner.from_b64(seed_to_b64(seed))
    assert signer.public_key_b64 == public_key_b64(seed)
    assert signer.previous_public_key_b64 is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("not base64!!", "not valid base64"),
        (base64.b64encode(b"x" * 31).decode(), "32 bytes, got 31"),
        (base64.b64encode(b"x" * 64).decode(), "32 bytes, got 64"),
        (base64.urlsafe_b64encode(b"\xfb" * 32).decode(), "not valid base64"),
    ],
)
def test_load_seed_rejects(value: str, message: str) -> None:
    with pytest.raises(SigningKeyError, match=message):
        load_seed_b64(value)


def test_bad_seed_bytes_rejected() -> None:
    with pytest.raises(SigningKeyError):
        WebhookSigner(b"short")
    with pytest.raises(SigningKeyError):
        public_key_b64(b"\x00" * 31)
