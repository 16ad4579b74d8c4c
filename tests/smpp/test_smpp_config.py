"""SmppCarrierConfig: the TOML table operators write, and what it refuses."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.carriers.smpp import SmppCarrierConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "smpp.md"


def test_docs_example_loads() -> None:
    text = DOC.read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block is not None, "docs/smpp.md has a TOML example"
    tables = tomllib.loads(block.group(1))["carriers"]["smpp"]
    configs = [SmppCarrierConfig.model_validate(t) for t in tables]
    assert configs[0].window == 64
    assert configs[0].password.get_secret_value() not in repr(configs[0])


BASE: dict[str, Any] = {"name": "c", "host": "127.0.0.1", "system_id": "sys"}


def test_defaults() -> None:
    config = SmppCarrierConfig.model_validate(BASE)
    assert (config.port, config.bind_mode, config.binds, config.window) == (
        2775,
        "transceiver",
        1,
        64,
    )
    assert (config.long_message_mode, config.message_id_format) == ("udh", "string")
    assert config.throughput is None


@pytest.mark.parametrize(
    "bad",
    [
        {"password": "123456789"},
        {"system_id": "x" * 16},
        {"system_type": "x" * 13},
        {"window": 0},
        {"bind_mode": "receiver"},
        {"long_message_mode": "split"},
        {"reconnect_backoff_min": 10, "reconnect_backoff_max": 1},
        {"receipt_id_format": "decimal"},  # needs a numeric message_id_format
        {"gsm7_packed": True, "default_data_coding": 3},
        {"default_data_coding": 8},
        {"unknown_setting": 1},
    ],
)
def test_refuses(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SmppCarrierConfig.model_validate({**BASE, **bad})
