from __future__ import annotations

from pathlib import Path

import pytest

from focusdesk.paths import ENV_DATA_DIR, resolve_paths


def test_explicit_data_dir_wins_over_environment(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "explicit")
    assert paths.data_dir == (tmp_path / "explicit").resolve()
    assert paths.database.parent == paths.data_dir
    assert paths.index_dir.is_relative_to(paths.data_dir)
    assert paths.settings_file.is_relative_to(paths.data_dir)


def test_environment_used_when_no_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "env"))
    assert resolve_paths().data_dir == (tmp_path / "env").resolve()


def test_platform_default_when_nothing_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    paths = resolve_paths()
    assert paths.data_dir.is_relative_to(tmp_path / "xdg-data")
    assert paths.config_dir.is_relative_to(tmp_path / "xdg-config")


def test_ensure_creates_the_folders_only(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "p").ensure()
    assert paths.index_dir.is_dir()
    assert paths.log_dir.is_dir()
    assert not paths.database.exists()


def test_a_home_that_cannot_hold_folders_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.errors import KnownError

    home = tmp_path / "home"
    home.write_text("not a folder")  # refuses sub-folders even to root
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(KnownError, match=r"cannot write to its folder .*home/\.local/share"):
        resolve_paths().ensure()
