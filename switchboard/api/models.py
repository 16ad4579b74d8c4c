"""Request bodies: field shapes and formats (business rules live in services)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.webhooks.urlguard import WebhookURLError, validate_webhook_url

COUNTRY = re.compile(r"^[A-Z]{2}$")
ALPHA_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
MONEY = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


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
    phone_numbers: Annotated[list[NumberOrderItem], Field(min_length=1, max_length=100)]
    messaging_profile_id: str | None = None
    customer_reference: str | None = None
    connection_id: str | None = None
    billing_group_id: str | None = None


class MessageSend(Body):
    """`POST /messages` and `/messages/long_code`."""

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
    use_profile_webhooks: bool = True
    webhook_url: str | None = None
    webhook_failover_url: str | None = None

    @field_validator("webhook_url", "webhook_failover_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return check_url(value)
