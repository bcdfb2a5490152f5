from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from focusdesk.settings import SETTINGS_VERSION, Settings, load_settings, save_settings


def test_every_setting_has_a_default_and_a_description() -> None:
    described = Settings.describe()
    for f in fields(Settings):
        assert described[f.name].strip(), f.name
    Settings()  # all defaults construct


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(device="cpu", heads=2, temperature=0.2), path)
    loaded = load_settings(path)
    assert (loaded.device, loaded.heads, loaded.temperature) == ("cpu", 2, 0.2)
    assert json.loads(path.read_text())["version"] == SETTINGS_VERSION


def test_missing_or_corrupt_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.json") == Settings()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert load_settings(bad) == Settings()


def test_bad_values_fall_back_to_defaults_and_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"version": 1, "heads": "many", "device": "tpu", "top_k": 7}))
    s = load_settings(path)
    assert s.heads == Settings().heads
    assert s.device == "auto"
    assert s.top_k == 7


def test_old_settings_are_migrated(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"model": "/models/mine"}))  # version 0 spelling
    assert load_settings(path).model_path == "/models/mine"
