"""Desktop integration: the entry, icons and metainfo installed under the XDG folders."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from focusdesk import desktop_entry
from focusdesk.cli import main
from focusdesk.package_data import ICON_SIZES, desktop_file, icon_png, metainfo_file

REPO = Path(__file__).resolve().parents[2]


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _validate(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (make system-deps installs it)")
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_shipped_desktop_file_is_valid() -> None:
    _validate("desktop-file-validate", str(desktop_file()))


def test_the_installed_entry_is_valid_even_from_a_path_with_spaces(tmp_path: Path) -> None:
    program = _executable(tmp_path / "My Apps" / "focus$desk 100%")
    entry = tmp_path / desktop_entry.ENTRY_NAME
    entry.write_text(desktop_entry.render_entry([str(program), "run", "--tray"], autostart=True))
    _validate("desktop-file-validate", str(entry))
    exec_line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
    assert desktop_entry._split_exec(exec_line.removeprefix("Exec=")) == [
        str(program),
        "run",
        "--tray",
    ]


def test_the_metainfo_is_valid_and_its_screenshots_are_the_docs_ones() -> None:
    _validate("appstreamcli", "validate", "--no-net", str(metainfo_file()))
    images = ET.parse(metainfo_file()).getroot().iter("image")
    for image in images:
        shot = REPO / "docs" / "screenshots" / Path(image.text or "").name
        assert shot.is_file(), shot
        width, height = struct.unpack(">II", shot.read_bytes()[16:24])
        assert (width, height) == (int(image.get("width", 0)), int(image.get("height", 0)))


def test_every_icon_size_is_a_png_of_that_size() -> None:
    for size in ICON_SIZES:
        head = icon_png(size).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head[16:24]) == (size, size)


def test_install_then_remove_follows_the_xdg_folders(tmp_path: Path) -> None:
    assert main(["desktop-entry", "install"]) == 0
    entry = tmp_path / "xdg-data" / "applications" / "org.focusdesk.FocusDesk.desktop"
    assert entry.is_file()
    assert f"TryExec={desktop_entry.launcher()[0]}" in entry.read_text()
    icons = tmp_path / "xdg-data" / "icons" / "hicolor"
    assert (icons / "48x48" / "apps" / "org.focusdesk.FocusDesk.png").is_file()
    assert (icons / "scalable" / "apps" / "org.focusdesk.FocusDesk.svg").is_file()
    assert (tmp_path / "xdg-data" / "metainfo" / metainfo_file().name).is_file()
    assert [s.describe() for s in desktop_entry.check()] == [f"{entry} (ok)"]

    desktop_entry.set_autostart(True, tmp_path / "profile")
    autostart = tmp_path / "xdg-config" / "autostart" / "org.focusdesk.FocusDesk.desktop"
    assert "run --tray" in autostart.read_text()
    assert desktop_entry.autostart_enabled()

    assert main(["desktop-entry", "remove"]) == 0
    assert not entry.exists()
    assert not autostart.exists()
    assert not any(p.is_file() for p in icons.rglob("*"))


def test_doctor_reports_a_moved_entry_and_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _executable(tmp_path / "old place" / "bin" / "focusdesk")
    entry = desktop_entry.entry_path()
    entry.parent.mkdir(parents=True)
    entry.write_text(desktop_entry.render_entry([str(old)]))
    autostart = desktop_entry.autostart_path()
    autostart.parent.mkdir(parents=True)
    autostart.write_text(
        desktop_entry.render_entry(
            [str(old), "--data-dir", str(tmp_path / "my profile"), "run", "--tray"],
            autostart=True,
        )
    )
    shutil.rmtree(tmp_path / "old place")  # FocusDesk moved elsewhere

    assert main(["doctor", "--no-model"]) == 0
    out = capsys.readouterr().out
    assert f"{entry} starts {old}, which is gone" in out
    assert f"{autostart} starts {old}, which is gone" in out

    assert main(["doctor", "--no-model", "--repair"]) == 0
    out = capsys.readouterr().out
    assert f"Repaired {entry}" in out
    assert f"{entry} (ok)" in out
    assert f"{autostart} (ok)" in out
    exec_line = next(x for x in autostart.read_text().splitlines() if x.startswith("Exec="))
    assert desktop_entry._split_exec(exec_line.removeprefix("Exec=")) == [
        *desktop_entry.launcher(),
        "--data-dir",
        str(tmp_path / "my profile"),
        "run",
        "--tray",
    ]
    assert os.access(desktop_entry.launcher()[0], os.X_OK)
