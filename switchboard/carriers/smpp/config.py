"""Settings of one SMPP carrier, as read from a `[[carriers.smpp]]` TOML table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

BindMode = Literal["transceiver", "transmitter_receiver"]
LongMessageMode = Literal["udh", "sar", "payload"]
MessageIdFormat = Literal["string", "hex", "decimal"]
ReceiptIdFormat = Literal["same", "hex", "decimal"]


class SmppCarrierConfig(BaseModel):
    """Everything an operator can tune about one SMSC connection.

    Limits on strings follow SMPP 3.4 (C-octet strings, NUL excluded).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Carrier name used in events and the CLI.")
    host: str
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15)
    password: SecretStr = Field(SecretStr(""), description="At most 8 characters.")
    system_type: str = Field("", max_length=12)
    service_type: str = Field("", max_length=5)
    address_range: str = Field("", max_length=40)

    bind_mode: BindMode = "transceiver"
    binds: int = Field(1, ge=1, le=64, description="Sessions (or tx+rx pairs) to keep bound.")
    window: int = Field(64, ge=1, le=10_000, description="Outstanding submit_sm per session.")
    throughput: float | None = Field(
        None, gt=0, description="submit_sm per second across all binds; unset = unlimited."
    )

    connect_timeout: float = Field(10.0, gt=0)
    response_timeout: float = Field(10.0, gt=0)
    enquire_link_interval: float = Field(30.0, gt=0)
    reconnect_backoff_min: float = Field(1.0, gt=0)
    reconnect_backoff_max: float = Field(60.0, gt=0)
    throttle_backoff_min: float = Field(
        1.0, gt=0, description="First pause after ESME_RTHROTTLED / ESME_RMSGQFUL."
    )
    throttle_backoff_max: float = Field(30.0, gt=0)
    submit_timeout: float = Field(
        60.0,
        gt=0,
        description="How long submit() keeps trying (no bind up, throttled) before it gives "
        "the message back with retry_after.",
    )
    retry_after: float = Field(30.0, gt=0, description="retry_after of temporary refusals.")

    default_data_coding: Literal[0, 1, 3] = Field(
        0, description="data_coding for GSM-7 text: 0 SMSC default (GSM 03.38), 1 IA5, 3 Latin-1."
    )
    gsm7_packed: bool = Field(False, description="Pack GSM-7 septets (data_coding 0 only).")
    long_message_mode: LongMessageMode = "udh"

    message_id_format: MessageIdFormat = Field(
        "string", description="How submit_sm_resp and receipted_message_id write ids."
    )
    receipt_id_format: ReceiptIdFormat = Field(
        "same", description="How the receipt text's `id:` field writes ids."
    )
    receipt_hold: float = Field(
        10.0,
        ge=0,
        description="Seconds a receipt for an unknown id waits for its submit_sm_resp.",
    )
    error_codes: dict[str, str] = Field(
        default_factory=dict,
        description="Receipt `err:` value → Telnyx 40xxx code, overriding the stat mapping.",
    )

    source_ton: int | None = Field(None, ge=0, le=255)
    source_npi: int | None = Field(None, ge=0, le=255)
    dest_ton: int | None = Field(None, ge=0, le=255)
    dest_npi: int | None = Field(None, ge=0, le=255)
    short_code_ton: int = Field(3, ge=0, le=255)
    short_code_npi: int = Field(0, ge=0, le=255)

    mo_reassembly_timeout: float = Field(
        120.0, gt=0, description="How long parts of a concatenated MO wait for the rest."
    )
    max_pdu_length: int = Field(65_536, ge=1024, le=1 << 20)

    @model_validator(mode="after")
    def _check(self) -> SmppCarrierConfig:
        if len(self.password.get_secret_value()) > 8:
            raise ValueError("password must be at most 8 characters (SMPP 3.4)")
        if self.reconnect_backoff_min > self.reconnect_backoff_max:
            raise ValueError("reconnect_backoff_min must not exceed reconnect_backoff_max")
        if self.throttle_backoff_min > self.throttle_backoff_max:
            raise ValueError("throttle_backoff_min must not exceed throttle_backoff_max")
        if self.message_id_format == "string" and self.receipt_id_format != "same":
            raise ValueError("receipt_id_format needs message_id_format hex or decimal")
        if self.gsm7_packed and self.default_data_coding != 0:
            raise ValueError("gsm7_packed applies to default_data_coding 0 only")
        return self
