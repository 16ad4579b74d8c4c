from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config import load_settings


def test_precedence_file_then_environment_then_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text(
        'port = 9000\nhost = "0.0.0.0"\n[sandbox]\ndelivery_delay = 1.5\nunconfirmed_after = 9\n'
    )
    monkeypatch.setenv("SWITCHBOARD_PORT", "9100")
    monkeypatch.setenv("SWITCHBOARD_SANDBOX__DELIVERY_DELAY", "0.25")
    settings = load_settings(config, port=9200, database_url=None)
    assert settings.port == 9200  # option beats environment beats file
    assert settings.host == "0.0.0.0"
    assert settings.sandbox.delivery_delay == 0.25  # environment beats file...
    assert settings.sandbox.unconfirmed_after == 9  # ...without wiping the rest of the table


def test_smpp_carriers_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text(
        'mode = "gateway"\n[[carriers.smpp]]\nname = "acme"\nhost = "10.0.0.5"\n'
        'system_id = "sw"\npassword = "pw"\n[carriers.routes.prefixes]\n"+44" = "acme"\n'
    )
    settings = load_settings(config)
    assert [c.name for c in settings.carriers.smpp] == ["acme"]
    assert settings.carriers.routes.prefixes == {"+44": "acme"}
