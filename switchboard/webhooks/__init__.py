"""Signed webhook delivery: bodies, signatures, URL policy, retry schedule, sender.

Each module is free of storage concerns; the delivery worker combines them:
render the body for an attempt (:mod:`.envelope`), sign it (:mod:`.signing`), send it
(:mod:`.client`, which applies :mod:`.urlguard`), and pick the next round
(:mod:`.schedule`).
"""

from switchboard.webhooks.client import AttemptResult, ErrorKind, WebhookClient
from switchboard.webhooks.envelope import LinkClickEvent, StoredEvent, WebhookEvent
from switchboard.webhooks.schedule import RetrySchedule
from switchboard.webhooks.signing import (
    SigningKeyError,
    WebhookSigner,
    generate_seed,
    load_seed_b64,
    public_key_b64,
)
from switchboard.webhooks.urlguard import WebhookURLError, validate_webhook_url

__all__ = [
    "AttemptResult",
    "ErrorKind",
    "LinkClickEvent",
    "RetrySchedule",
    "SigningKeyError",
    "StoredEvent",
    "WebhookClient",
    "WebhookEvent",
    "WebhookSigner",
    "WebhookURLError",
    "generate_seed",
    "load_seed_b64",
    "public_key_b64",
    "validate_webhook_url",
]
