"""Ed25519 signing of webhook requests, with key rotation.

Every attempt is signed afresh (DECISIONS item 8), so receivers that enforce the
±300 s window accept retries too. Two header sets go out on each request:

* ``telnyx-timestamp`` / ``telnyx-signature-ed25519``: what the Telnyx SDKs verify
  (signed message ``"<ts>|" + body``). That header holds exactly one signature, made
  with the **current** key.
* ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature``: Standard Webhooks,
  ``v1a`` (Ed25519) over ``"<id>.<ts>." + body``. That header may carry several
  space-separated signatures, so during a key rotation it carries one per active key
  and receivers still holding the previous public key keep verifying.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from nacl.bindings import crypto_sign, crypto_sign_BYTES, crypto_sign_seed_keypair
from nacl.signing import SigningKey

SEED_BYTES = 32

TELNYX_TIMESTAMP = "telnyx-timestamp"
TELNYX_SIGNATURE = "telnyx-signature-ed25519"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"

#: Standard Webhooks prefix for an Ed25519 public key ("whpk_" + base64 of 32 bytes).
STANDARD_PUBLIC_KEY_PREFIX = "whpk_"


class SigningKeyError(ValueError):
    """A configured signing seed is not usable."""


def generate_seed() -> bytes:
    """A fresh random 32-byte Ed25519 seed (the private key material to store)."""
    return secrets.token_bytes(SEED_BYTES)


def seed_to_b64(seed: bytes) -> str:
    """Standard base64 of a seed, the form kept in configuration."""
    _check_seed(seed)
    return base64.b64encode(seed).decode("ascii")


def load_seed_b64(value: str) -> bytes:
    """Decode a configured seed; refuse anything but standard base64 of 32 bytes.

    Strict decoding so a truncated or mangled secret fails at start-up, not as a wave
    of signatures nobody can verify.
    """
    text = value.strip()
    if not text:
        raise SigningKeyError("webhook signing key is empty")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(f"webhook signing key is not valid base64: {exc}") from None
    if len(raw) != SEED_BYTES:
        raise SigningKeyError(
            f"webhook signing key must decode to {SEED_BYTES} bytes, got {len(raw)}"
        )
    return raw


def public_key_b64(seed: bytes) -> str:
    """Base64 of the raw 32-byte public key: the value customers give the Telnyx SDK."""
    _check_seed(seed)
    return base64.b64encode(bytes(SigningKey(seed).verify_key)).decode("ascii")


def standard_public_key(seed: bytes) -> str:
    """The public key in Standard Webhooks form (``whpk_...``)."""
    return STANDARD_PUBLIC_KEY_PREFIX + public_key_b64(seed)


def _check_seed(seed: bytes) -> None:
    if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
        raise SigningKeyError(f"an Ed25519 seed is {SEED_BYTES} bytes")


class WebhookSigner:
    """Signs webhook bodies with the current key and, during a rotation, the previous one.

    ``previous_until`` is the unix time (seconds) at which the previous key's grace
    period ends; ``None`` keeps it active until it is removed from configuration.
    """

    def __init__(
        self,
        current_seed: bytes,
        previous_seed: bytes | None = None,
        previous_until: int | None = None,
    ) -> None:
        _check_seed(current_seed)
        if previous_seed is not None:
            _check_seed(previous_seed)
        elif previous_until is not None:
            raise SigningKeyError("previous_until given without a previous key")
        self._current = SigningKey(current_seed)
        self._previous = SigningKey(previous_seed) if previous_seed is not None else None
        self._previous_until = previous_until
        # libsodium's 64-byte secret keys, for `_signature`.
        self._current_secret = crypto_sign_seed_keypair(current_seed)[1]
        self._previous_secret = (
            crypto_sign_seed_keypair(previous_seed)[1] if previous_seed is not None else None
        )

    @classmethod
    def from_b64(
        cls,
        current_b64: str,
        previous_b64: str | None = None,
        previous_until: int | None = None,
    ) -> WebhookSigner:
        """Build from configured base64 seeds (empty previous means no rotation)."""
        previous = load_seed_b64(previous_b64) if previous_b64 else None
        return cls(load_seed_b64(current_b64), previous, previous_until)

    @property
    def public_key_b64(self) -> str:
        """Current public key, base64 of 32 bytes."""
        return base64.b64encode(bytes(self._current.verify_key)).decode("ascii")

    @property
    def previous_public_key_b64(self) -> str | None:
        """Previous public key, if one is configured (whether or not still in grace)."""
        if self._previous is None:
            return None
        return base64.b64encode(bytes(self._previous.verify_key)).decode("ascii")

    def _in_grace(self, now: int) -> bool:
        """Whether the previous key still signs at ``now``."""
        return self._previous is not None and (
            self._previous_until is None or now < self._previous_until
        )

    def active_keys(self, now: int) -> list[SigningKey]:
        """Keys that sign at ``now``: current first, previous while in its grace period."""
        keys = [self._current]
        if self._previous is not None and self._in_grace(now):
            keys.append(self._previous)
        return keys

    def _active_secrets(self, now: int) -> list[bytes]:
        """The secrets of `active_keys`, in the same order."""
        secrets_ = [self._current_secret]
        if self._previous_secret is not None and self._in_grace(now):
            secrets_.append(self._previous_secret)
        return secrets_

    def sign(self, body: bytes, event_id: str, now: int) -> dict[str, str]:
        """Signature headers for one attempt; ``body`` must be the exact bytes sent."""
        ts = str(int(now))
        telnyx_sig = _signature(self._current_secret, ts.encode("ascii") + b"|" + body)
        std_message = f"{event_id}.{ts}.".encode() + body
        std_sigs = " ".join(
            "v1a," + base64.b64encode(_signature(secret, std_message)).decode("ascii")
            for secret in self._active_secrets(now)
        )
        return {
            TELNYX_TIMESTAMP: ts,
            TELNYX_SIGNATURE: base64.b64encode(telnyx_sig).decode("ascii"),
            WEBHOOK_ID: event_id,
            WEBHOOK_TIMESTAMP: ts,
            WEBHOOK_SIGNATURE: std_sigs,
        }


def _signature(secret_key: bytes, message: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `message`.

    libsodium's signed message is the signature followed by the message; taking its head
    through the low-level binding skips `SigningKey.sign`'s three further copies of the
    body and its result object: a third of the time of each of the two or three signatures
    every webhook attempt carries.
    """
    return crypto_sign(message, secret_key)[:crypto_sign_BYTES]
