"""Request bodies: field shapes and formats (business rules live in services)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.domain.clock import parse_iso
from switchboard.webhooks.urlguard import WebhookURLError, validate_webhook_url

COUNTRY = re.compile(r"^[A-Z]{2}$")
ALPHA_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
MONEY = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


def parse_send_at(value: str) -> datetime:
    """An ISO 8601 timestamp; one without a zone is taken as UTC."""
    try:
        return parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time, e.g. 2030-01-01T12:00:00Z") from None


class Body(BaseModel):
    # Strict: `"true"` is not a boolean and `5` is not a string; clients get told, not guessed.
    model_config = ConfigDict(strict=True, extra="ignore")


def check_url(value: str | None) -> str | None:
    """Webhook URLs: empty/None mean "none"; anything else must be an http(s) URL."""
    if value is None or value == "":
        return value
    try:
        return validate_webhook_url(value)
    except WebhookURLError as exc:
        raise ValueError(str(exc)) from None


class NumberPoolSettings(Body):
    long_code_weight: Annotated[float, Field(ge=0)]
    toll_free_weight: Annotated[float, Field(ge=0)]
    skip_unhealthy: bool
    sticky_sender: bool = False
    geomatch: bool = False

    @field_validator("long_code_weight", "toll_free_weight", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value


class URLShortenerSettings(Body):
    domain: Annotated[str, Field(min_length=1, max_length=255)]
    prefix: str | None = None
    replace_blacklist_only: bool = False
    send_webhooks: bool = False


class ProfileFields(Body):
    """Fields shared by create and update; all optional here."""

    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    enabled: bool | None = None
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    webhook_api_version: Literal["1", "2", "2010-04-01"] | None = None
    whitelisted_destinations: list[str] | None = None
    number_pool_settings: NumberPoolSettings | None = None
    url_shortener_settings: URLShortenerSettings | None = None
    alpha_sender: str | None = None
    daily_spend_limit: str | None = None
    daily_spend_limit_enabled: bool | None = None
    mms_fall_back_to_sms: bool | None = None
    mms_transcoding: bool | None = None
    mobile_only: bool | None = None
    smart_encoding: bool | None = None
    features: dict[str, Any] | None = None
    ai_assistant_id: Annotated[str, Field(max_length=64)] | None = None
    resource_group_id: Annotated[str, Field(max_length=64)] | None = None
    health_webhook_url: str | None = None

    @field_validator("webhook_url", "webhook_failover_url", "health_webhook_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("whitelisted_destinations")
    @classmethod
    def _destinations(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError('must list at least one ISO country code, or ["*"] for all')
        for code in value:
            if code != "*" and not COUNTRY.match(code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code or '*'")
        return list(dict.fromkeys(value))

    @field_validator("alpha_sender")
    @classmethod
    def _alpha(cls, value: str | None) -> str | None:
        if value is not None and not ALPHA_SENDER.match(value):
            raise ValueError("must be 1-11 letters, digits or spaces")
        return value

    @field_validator("daily_spend_limit")
    @classmethod
    def _money(cls, value: str | None) -> str | None:
        if value is not None and not MONEY.match(value):
            raise ValueError('must be a decimal amount as a string, e.g. "100.00"')
        return value

    def given(self) -> dict[str, Any]:
        """Only the fields the client sent (JSON null included), ready for storage."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            out[name] = value.model_dump() if isinstance(value, BaseModel) else value
        return out


NOT_NULL_ON_UPDATE = (
    "name",
    "enabled",
    "webhook_api_version",
    "whitelisted_destinations",
    "daily_spend_limit_enabled",
    "mms_fall_back_to_sms",
    "mms_transcoding",
    "mobile_only",
    "smart_encoding",
    "redaction_enabled",
    "redaction_level",
    "v1_secret",
)


class ProfileCreate(ProfileFields):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    whitelisted_destinations: list[str]


class ProfileUpdate(ProfileFields):
    redaction_enabled: bool | None = None
    redaction_level: Annotated[int, Field(ge=1, le=2)] | None = None
    v1_secret: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class NumberOrderItem(Body):
    phone_number: str


class NumberOrderCreate(Body):
    # Up to as many numbers as one bulk update takes (docs/numbers-and-profiles.md).
    phone_numbers: Annotated[list[NumberOrderItem], Field(min_length=1, max_length=5000)]
    messaging_profile_id: str | None = None
    customer_reference: str | None = None
    connection_id: str | None = None
    billing_group_id: str | None = None


class NumberMessagingUpdate(Body):
    """`PATCH /phone_numbers/{id}/messaging`: absent or null fields stay as they are."""

    messaging_profile_id: str | None = None  # "" unassigns
    messaging_product: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    tags: list[Annotated[str, Field(max_length=255)]] | None = None


class BulkUpdateCreate(Body):
    """`POST /messaging_numbers_bulk_updates`."""

    messaging_profile_id: str  # "" unassigns every listed number
    numbers: Annotated[list[str], Field(min_length=1, max_length=5000)]
    assign_only: bool = False


class WebhookTargets(Body):
    """The per-message webhook fields every send endpoint takes."""

    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None

    @field_validator("webhook_url", "webhook_failover_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return check_url(value)


class MessageSend(WebhookTargets):
    """`POST /messages`, `/messages/long_code` and `/messages/schedule`."""

    to: str
    from_: str | None = Field(None, alias="from")
    messaging_profile_id: str | None = None
    text: str | None = None
    media_urls: Annotated[list[str], Field(max_length=10)] | None = None
    subject: str | None = None
    type: Literal["SMS", "MMS"] | None = None
    auto_detect: bool = False
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    send_at: str | None = None

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: str | None) -> str | None:
        if value is not None:
            parse_send_at(value)
        return value

    def send_at_time(self) -> datetime | None:
        return None if self.send_at is None else parse_send_at(self.send_at)


# --- Receiving: auto-response configs and sandbox handsets ------------------------------

AUTORESP_COUNTRY = re.compile(r"^(?:[A-Z]{2}|\*)$")


class AutorespConfigBody(Body):
    """`POST` and `PUT …/autoresp_configs` (PUT replaces every field)."""

    op: Literal["start", "stop", "info"]
    keywords: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)
    ]
    country_code: str
    resp_text: Annotated[str, Field(max_length=1600)] | None = None

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(k.split()) for k in value]
        if any(not k for k in cleaned):
            raise ValueError("keywords cannot be blank")
        return list(dict.fromkeys(cleaned))

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str) -> str:
        if not AUTORESP_COUNTRY.match(value):
            raise ValueError("must be an ISO 3166 alpha-2 country code, or '*' for any")
        return value


class HandsetMessage(Body):
    """`POST /sandbox/handsets/{number}/messages`: what a virtual handset sends."""

    to: str
    text: Annotated[str, Field(max_length=10_000)] | None = None
    media_urls: (
        Annotated[list[Annotated[str, Field(max_length=2000)]], Field(max_length=10)] | None
    ) = None
    type: Literal["SMS", "MMS", "WHATSAPP"] | None = None

    @field_validator("media_urls")
    @classmethod
    def _media(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            if not url.lower().startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value


class MessageGroupMms(WebhookTargets):
    """`POST /messages/group_mms`."""

    from_: str = Field(alias="from")
    to: Annotated[list[str], Field(min_length=1, max_length=8)]
    text: str | None = None
    media_urls: Annotated[list[str], Field(max_length=10)] | None = None
    subject: str | None = None


class MessageAlphanumeric(WebhookTargets):
    """`POST /messages/alphanumeric_sender_id` (SMS only)."""

    from_: str = Field(alias="from")
    to: str
    messaging_profile_id: str
    text: Annotated[str, Field(min_length=1)]
    media_urls: list[str] | None = None  # not accepted; named so it is refused, not dropped


class ShortCodeCreate(Body):
    """`POST /sandbox/short_codes`."""

    short_code: Annotated[str, Field(min_length=3, max_length=8)]
    country_code: str = "US"
    messaging_profile_id: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str) -> str:
        if not COUNTRY.match(value):
            raise ValueError("must be an ISO 3166 alpha-2 country code, e.g. US")
        return value


class ShortCodeUpdate(Body):
    """`PATCH /short_codes/{id}`: `messaging_profile_id` is required (null unassigns)."""

    messaging_profile_id: str | None
    tags: list[str] | None = None

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class AlphanumericSenderIdCreate(Body):
    """`POST /alphanumeric_sender_ids`."""

    alphanumeric_sender_id: str
    messaging_profile_id: str
    us_long_code_fallback: str | None = None


class MessageWhatsapp(WebhookTargets):
    """`POST /messages/whatsapp` (the content is checked by domain/whatsapp.py)."""

    from_: str = Field(alias="from")
    to: str
    whatsapp_message: dict[str, Any]
    messaging_profile_id: str | None = None
    type: Literal["WHATSAPP"] | None = None
