"""The ledger's signing key is kept apart from the data folder by default; a key in its old place
(beside the key file) keeps working, and the log says once how to move it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from corridor.server.ledger import anchor
from corridor.server.settings import Settings


def _settings(folder: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{folder}/corridor.db", data_dir=folder, key_file=folder / "corridor.key"
    )


def test_by_default_the_key_is_in_the_configuration_folder_one_per_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    here, there = _settings(tmp_path / "site-a"), _settings(tmp_path / "site-b")
    path = here.signing_key_path
    assert path.parent == tmp_path / "config" / "corridor"
    assert (tmp_path / "site-a") not in path.parents and path.name.endswith(".key")
    assert path == _settings(tmp_path / "site-a").signing_key_path  # the same folder, the same key
    assert there.signing_key_path != path


def test_without_xdg_config_home_it_is_under_dot_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _settings(tmp_path / "data").signing_key_path.parent == tmp_path / "home" / ".config" / "corridor"


def test_the_setting_is_used_when_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_SIGNING_KEY_FILE", str(tmp_path / "elsewhere" / "signing.key"))
    assert Settings().signing_key_path == tmp_path / "elsewhere" / "signing.key"


def test_a_key_made_in_the_default_place_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = _settings(tmp_path / "data").signing_key_path
    anchor.load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "data").exists()  # nothing written into the data folder


def test_a_key_in_the_old_place_keeps_working_and_the_log_says_how_to_move_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = _settings(tmp_path / "data")
    old = tmp_path / "data" / "ledger-signing.key"
    key = anchor.load_or_create_signing_key(old)
    assert settings.signing_key_path == old
    assert anchor.public_hex(
        anchor.load_or_create_signing_key(settings.signing_key_path)
    ) == anchor.public_hex(key)
    with caplog.at_level(logging.WARNING, logger="corridor.server.ledger"):
        assert anchor.say_if_in_the_old_place(settings)
        assert anchor.say_if_in_the_old_place(settings)  # said once only
    said = [r.getMessage() for r in caplog.records if "signing key" in r.getMessage()]
    assert len(said) == 1
    new = tmp_path / "config" / "corridor"
    assert f"mkdir -p -m 700 {new}" in said[0] and f"mv {old} {new}/" in said[0]
    assert "CORRIDOR_SIGNING_KEY_FILE" in said[0]


def test_a_key_elsewhere_is_not_warned_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert not anchor.say_if_in_the_old_place(_settings(tmp_path / "data"))
