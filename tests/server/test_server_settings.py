"""Settings: each one documented; environment variables read; the key file made once, private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from corridor.server.encryption import KeyFileError, Sealer, load_or_create_key
from corridor.server.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"| `{name}` |" not in text]
    assert missing == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_GRACE_MINUTES", "45")
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", "sqlite:///x.db")
    settings = Settings()
    assert settings.grace_minutes == 45 and settings.database_url == "sqlite:///x.db"


def test_the_key_file_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "corridor.key"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    sealer = Sealer(key)
    sealed = sealer.seal("يوسف")
    assert "يوسف" not in sealed and sealer.open(sealed) == "يوسف"
    assert sealer.seal("يوسف") != sealed  # no two encryptions alike


def test_a_damaged_key_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "corridor.key"
    path.write_text("not a key")
    with pytest.raises(KeyFileError, match="restore the key file"):
        load_or_create_key(path)
