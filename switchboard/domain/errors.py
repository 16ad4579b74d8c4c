"""The catalogue of errors the API returns: code, HTTP status, title.

Every client-caused failure is raised as an `ApiError` carrying one of these codes, and the
HTTP layer renders it as the Telnyx envelope. `docs/errors.md` lists the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    code: str
    status: int
    title: str


# General API errors (Telnyx 1xxxx family).
MISSING_PARAMETER = ErrorKind("10004", 422, "Missing required parameter")
NOT_FOUND = ErrorKind("10005", 404, "Resource not found")
INVALID_ID = ErrorKind("10006", 404, "Invalid ID")
UNEXPECTED = ErrorKind("10007", 500, "Unexpected error")
AUTHENTICATION_FAILED = ErrorKind("10009", 401, "Authentication failed")
AUTHORIZATION_FAILED = ErrorKind("10010", 403, "Authorization failed")
TOO_MANY_REQUESTS = ErrorKind("10011", 429, "Too many requests")
UNSUPPORTED_MEDIA_TYPE = ErrorKind("10014", 415, "Unsupported Media Type")
BAD_REQUEST = ErrorKind("10015", 400, "Bad Request")
NOT_E164 = ErrorKind("10016", 422, "Phone number must be in +E.164 format")
ASSOCIATED_NOT_FOUND = ErrorKind("10017", 422, "Associated resource does not exist")
RESOURCE_IN_USE = ErrorKind("10021", 422, "Resource in use")
INVALID_JSON = ErrorKind("10023", 400, "Invalid JSON")
INVALID_PARAMETER = ErrorKind("10025", 422, "Invalid parameter")
PAYLOAD_TOO_LARGE = ErrorKind("10026", 413, "Request body too large")
METHOD_NOT_ALLOWED = ErrorKind("10027", 405, "Method not allowed")
NUMBER_UNAVAILABLE = ErrorKind("10028", 422, "Phone number not available")

# Messaging request errors (403xx family).
OPTED_OUT = ErrorKind("40300", 409, "Blocked due to STOP message")
INVALID_FROM = ErrorKind("40305", 422, "Invalid 'from' address")
NO_PROFILE = ErrorKind("40306", 422, "Sender has no messaging profile")
PROFILE_DISABLED = ErrorKind("40307", 403, "Messaging profile disabled")
INVALID_TO = ErrorKind("40310", 422, "Invalid 'to' address")
DESTINATION_NOT_ALLOWED = ErrorKind("40311", 403, "Destination not allowed by profile")
NO_CONTENT = ErrorKind("40316", 422, "No content provided")
UNENCODABLE_TEXT = ErrorKind("40319", 400, "Text cannot be encoded as requested")
TOO_MANY_PARTS = ErrorKind("40320", 422, "Message too long")
# Profile limits (docs/numbers-and-profiles.md). 40333 and its HTTP 429 are Telnyx's own.
SPEND_LIMIT_REACHED = ErrorKind("40333", 429, "Messaging profile spend limit reached")
NOT_MOBILE = ErrorKind("40334", 403, "Destination is not a mobile number")
# Sending (docs/sending.md): codes of our own, in a block of their own.
NOT_CANCELLABLE = ErrorKind("40340", 403, "Message cannot be cancelled")
INVALID_IDEMPOTENCY_KEY = ErrorKind("40341", 422, "Invalid Idempotency-Key")
IDEMPOTENCY_KEY_REUSED = ErrorKind("40342", 422, "Idempotency-Key reused")
IDEMPOTENCY_IN_PROGRESS = ErrorKind("40343", 409, "Idempotent request in progress")
NO_POOL_NUMBER = ErrorKind("40344", 422, "No number available in the number pool")
DUPLICATE_RESOURCE = ErrorKind("10012", 422, "Duplicate resource")

# Delivery errors (40xxx, in a message's `errors[]`).
DELIVERY_ERRORS: dict[str, str] = {
    "40001": "Not routable",
    "40002": "Blocked as spam - temporary",
    "40003": "Blocked as spam - permanent",
    "40004": "Rejected by destination",
    "40005": "Message expired during transmission",
    "40006": "Recipient server unavailable",
    "40007": "Loop detected",
    "40008": "Undeliverable",
    "40009": "Invalid message body",
    "40011": "Too many requests",
    "40012": "Invalid destination number",
    "40013": "Invalid source number",
    "40014": "Message expired in queue",
    "40015": "Blocked by internal spam filter",
}


def delivery_error(code: str, detail: str | None = None) -> dict[str, Any]:
    """An item of a message's `errors[]` (`code` and `title` are required by the SDK)."""
    item: dict[str, Any] = {"code": code, "title": DELIVERY_ERRORS.get(code, "Delivery failed")}
    if detail:
        item["detail"] = detail
    return item


@dataclass
class ApiError(Exception):
    """A client-caused failure, rendered as `{"errors": [...]}` with `kind.status`."""

    kind: ErrorKind
    detail: str | None = None
    pointer: str | None = None  # JSON pointer into the body, e.g. "/to"
    parameter: str | None = None  # query parameter name
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind.code} {self.kind.title}: {self.detail or ''}"

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"code": self.kind.code, "title": self.kind.title}
        if self.detail:
            item["detail"] = self.detail
        source: dict[str, str] = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        if source:
            item["source"] = source
        item["meta"] = {
            "url": f"https://developers.telnyx.com/docs/overview/errors/{self.kind.code}"
        }
        return item


ALL_KINDS: list[ErrorKind] = [v for v in list(globals().values()) if isinstance(v, ErrorKind)]
