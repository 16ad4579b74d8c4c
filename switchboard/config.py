"""Settings: a TOML file plus `SWITCHBOARD_*` environment variables.

Precedence (highest first): command-line options, environment, TOML file, defaults.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    lease_seconds: float = Field(
        30.0, gt=0, description="A row left in `sending` this long by a dead worker is requeued."
    )
    receipt_timeout: float = Field(
        72 * 3600.0, gt=0, description="`sent` this long without a receipt → delivery_unconfirmed."
    )


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

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional TOML file, the environment, then explicit overrides."""
    file_values: dict[str, Any] = {}
    if config_file:
        with open(config_file, "rb") as fh:
            file_values = tomllib.load(fh)
    env_values = Settings().model_dump(exclude_unset=True)
    merged = {**file_values, **env_values, **{k: v for k, v in overrides.items() if v is not None}}
    return Settings.model_validate(merged)
