"""Settings: a TOML file plus `SWITCHBOARD_*` environment variables.

Precedence (highest first): command-line options, environment, TOML file, defaults.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.carriers.smpp.config import SmppCarrierConfig

if TYPE_CHECKING:
    from switchboard.webhooks.schedule import RetrySchedule


class SandboxSettings(BaseModel):
    """The simulated phone network used by `switchboard serve`."""

    delivery_delay: float = Field(0.2, ge=0, description="Seconds from `sent` to the receipt.")
    unconfirmed_after: float = Field(
        2.0, ge=0, description="Seconds before a magic 'unconfirmed' destination finalizes."
    )
    numbers: list[str] = Field(
        default_factory=lambda: ["+12025550142", "+18445550142"],
        description="Numbers the default account owns on first start.",
    )


class DispatcherSettings(BaseModel):
    batch_size: int = Field(100, ge=1, le=1000)
    poll_interval: float = Field(0.5, gt=0)
    concurrency: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="Messages handed to carriers at once; unset: twice the SMPP carriers' "
        "total window (binds x window), at least 64.",
    )
    lease_seconds: float = Field(
        30.0, gt=0, description="A row left in `sending` this long by a dead worker is requeued."
    )
    receipt_timeout: float = Field(
        72 * 3600.0, gt=0, description="`sent` this long without a receipt → delivery_unconfirmed."
    )


class WebhookSettings(BaseModel):
    """Delivery of signed webhooks (docs/webhooks.md)."""

    timeout: float = Field(2.0, gt=0, le=60, description="Seconds a receiver has to answer 2xx.")
    retry_schedule: str = Field(
        "0,5s,5m,30m,2h,5h,10h,10h",
        description="Wait before each round, e.g. '0,5s,5m,30m,2h,5h,10h,10h'.",
    )
    allow_private: bool | None = Field(
        None,
        description="Allow loopback/private targets; default: yes in sandbox, no in gateway.",
    )
    per_host_limit: int = Field(8, ge=1, le=1000, description="Concurrent requests per host.")
    concurrency: int = Field(256, ge=1, le=10000, description="Concurrent requests in all.")
    batch_size: int = Field(100, ge=1, le=1000)
    poll_interval: float = Field(1.0, gt=0)
    lease_seconds: float = Field(
        120.0, gt=0, description="A delivery claimed this long by a dead worker is retried."
    )
    key_rotation_grace: float = Field(
        24 * 3600.0,
        ge=0,
        description="Seconds (or '24h') the previous signing key keeps signing after rotation.",
    )

    @field_validator("retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        from switchboard.webhooks.schedule import RetrySchedule

        RetrySchedule.parse(value)
        return value

    @field_validator("key_rotation_grace", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        from switchboard.webhooks.schedule import parse_duration

        return parse_duration(value) if isinstance(value, str) else value

    @property
    def schedule(self) -> RetrySchedule:
        return _parsed_schedule(self.retry_schedule)  # read for every webhook queued


@functools.lru_cache(maxsize=16)
def _parsed_schedule(text: str) -> RetrySchedule:
    from switchboard.webhooks.schedule import RetrySchedule

    return RetrySchedule.parse(text)


class SchedulingSettings(BaseModel):
    """Messages sent with `send_at` (docs/sending.md)."""

    min_lead_seconds: float = Field(
        300.0, ge=0, description="`send_at` must be at least this many seconds ahead."
    )
    max_lead_seconds: float = Field(
        5 * 86400.0, gt=0, description="`send_at` may be at most this many seconds ahead."
    )
    cancel_cutoff_seconds: float = Field(
        60.0, ge=0, description="A scheduled message can be cancelled until this long before."
    )
    batch_size: int = Field(500, ge=1, le=10000)
    max_sleep: float = Field(
        30.0, gt=0, description="Longest the scheduler sleeps between looks at the database."
    )


class IdempotencySettings(BaseModel):
    """Idempotency-Key on the send endpoints (docs/sending.md)."""

    ttl_seconds: float = Field(
        24 * 3600.0, gt=0, description="How long a key's first answer is replayed."
    )
    in_flight_timeout: float = Field(
        60.0, gt=0, description="A key whose first request never answered is free after this."
    )


class RouteSettings(BaseModel):
    """Routes to carriers: by sender first, then by the longest destination prefix."""

    numbers: dict[str, str] = Field(
        default_factory=dict, description="Sender (number, short code, sender id) → carrier."
    )
    prefixes: dict[str, str] = Field(
        default_factory=dict, description="Destination prefix such as '+44' → carrier."
    )


class CarrierSettings(BaseModel):
    """The carriers messages leave through (`[carriers]` and `[[carriers.smpp]]` in TOML)."""

    default: str | None = Field(
        None,
        description="Carrier for unrouted messages; default 'sandbox' in sandbox mode, "
        "else the first SMPP carrier.",
    )
    smpp: list[SmppCarrierConfig] = Field(default_factory=list)
    routes: RouteSettings = Field(default_factory=RouteSettings)


class ConsoleSettings(BaseModel):
    """The web console at `/` (docs/console.md)."""

    enabled: bool | None = Field(
        None, description="Serve the console; default: yes in sandbox mode, no in gateway mode."
    )


class NumberPoolSettings(BaseModel):
    """Sender choice for number-pool sends (docs/sending.md)."""

    seed: int | None = Field(
        None, description="Seed the random choice (reproducible picks, for tests); none: random."
    )


class ThroughputSettings(BaseModel):
    """Message parts per second each sender may hand to the carrier (docs/sending.md).

    Defaults are Telnyx's per-type limits (messages.md §8.4). A message over the limit waits
    `queued`; past its `valid_until` it fails with 40014.
    """

    long_code: float = Field(0.1, gt=0, description="Parts per second per long code.")
    toll_free: float = Field(20.0, gt=0, description="Parts per second per toll-free number.")
    short_code: float = Field(1000.0, gt=0, description="Parts per second per short code.")
    alphanumeric: float = Field(
        0.1, gt=0, description="Parts per second per alphanumeric sender id."
    )
    whatsapp: float = Field(80.0, gt=0, description="WhatsApp messages per second per number.")
    per_sender: dict[str, float] = Field(
        default_factory=dict,
        description="Parts per second for particular senders, by address (overrides the type).",
    )

    def rate_for(self, address: str, sender_type: str) -> float:
        override = self.per_sender.get(address)
        if override is not None and override > 0:
            return float(override)
        return float(getattr(self, sender_type, self.long_code))


MMS_CONTENT_TYPES = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "image/webp",
    "video/mp4",
    "video/3gpp",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp3",
    "audio/wav",
    "audio/x-wav",
    "audio/amr",
    "audio/ogg",
    "application/pdf",
    "text/vcard",
    "text/x-vcard",
    "text/calendar",
]


class MediaSettings(BaseModel):
    """MMS media, fetched when the message is sent (docs/sending.md)."""

    fetch: bool = Field(True, description="Fetch and check MMS media before handing it over.")
    max_total_bytes: int = Field(1_000_000, ge=1, description="All media of a message together.")
    timeout: float = Field(10.0, gt=0, description="Seconds to fetch one media URL.")
    max_redirects: int = Field(3, ge=0, le=10)
    retry_after: float = Field(
        30.0, gt=0, description="Wait before retrying after a timeout, 5xx or 429."
    )
    allow_private: bool | None = Field(
        None,
        description="Allow loopback/private media hosts; default: yes in sandbox, no in gateway.",
    )
    content_types: list[str] = Field(default_factory=lambda: list(MMS_CONTENT_TYPES))


class Settings(BaseSettings):
    """Everything the program can be told. Environment names are `SWITCHBOARD_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", env_nested_delimiter="__")

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = Field(None, description="Base URL users reach, for short links.")
    database_url: str = "sqlite:///./switchboard.db"
    mode: Literal["sandbox", "gateway"] = "sandbox"
    api_key: str | None = Field(None, description="Always-valid API key of the default account.")
    webhook_signing_key: str | None = Field(None, description="Base64 32-byte Ed25519 seed.")
    message_retention_days: int = Field(10, ge=1)
    valid_for_seconds: int = Field(4 * 3600, ge=60, description="Default queue deadline.")
    max_body_bytes: int = 1024 * 1024
    currency: str = "USD"
    rates: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {
            "SMS": {"US": "0.0040", "CA": "0.0040", "*": "0.0450"},
            "MMS": {"US": "0.0150", "CA": "0.0150", "*": "0.1000"},
        },
        description="Price per part by message type and destination country ('*' = others).",
    )
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    dispatcher: DispatcherSettings = Field(default_factory=DispatcherSettings)
    scheduling: SchedulingSettings = Field(default_factory=SchedulingSettings)
    idempotency: IdempotencySettings = Field(default_factory=IdempotencySettings)
    number_pool: NumberPoolSettings = Field(default_factory=NumberPoolSettings)
    throughput: ThroughputSettings = Field(default_factory=ThroughputSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    carriers: CarrierSettings = Field(default_factory=CarrierSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @property
    def media_allow_private(self) -> bool:
        """Loopback/private media hosts: the sandbox allows them, a gateway refuses."""
        if self.media.allow_private is not None:
            return self.media.allow_private
        return self.mode == "sandbox"

    @property
    def console_enabled(self) -> bool:
        """The web console: on in the sandbox, off in gateway mode unless enabled."""
        if self.console.enabled is not None:
            return self.console.enabled
        return self.mode == "sandbox"

    @property
    def webhooks_allow_private(self) -> bool:
        """Loopback/private webhook targets: the sandbox allows them, a gateway refuses."""
        if self.webhooks.allow_private is not None:
            return self.webhooks.allow_private
        return self.mode == "sandbox"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge nested tables key by key, so an environment variable for one nested setting
    (`SWITCHBOARD_SANDBOX__DELIVERY_DELAY`) does not wipe the rest of that TOML table."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional TOML file, the environment, then explicit overrides."""
    file_values: dict[str, Any] = {}
    if config_file:
        with open(config_file, "rb") as fh:
            file_values = tomllib.load(fh)
    env_values = Settings().model_dump(exclude_unset=True)
    explicit = {k: v for k, v in overrides.items() if v is not None}
    return Settings.model_validate(_deep_merge(_deep_merge(file_values, env_values), explicit))
