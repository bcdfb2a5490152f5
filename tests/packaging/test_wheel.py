"""The wheel works outside the source tree: built, installed into a fresh virtualenv, run.

The virtualenv reuses the heavy dependencies already installed for the tests (a ``.pth``
file pointing at this interpreter's site-packages) so that nothing is downloaded; only
FocusDesk itself comes from the wheel, and every command runs from another folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RELEASE_0004 = REPO / "tests" / "data" / "profiles" / "release-0004.db"
SOURCES = ("pyproject.toml", "setup.py", "README.md", "focusdesk", "migrations", "resources")

pytestmark = pytest.mark.model


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel built from this tree installed in it; its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "focusdesk-source"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name,
                src / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), str(src)],
        cwd=root,
        env=env,
    )
    (wheel,) = (root / "dist").glob("focusdesk-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root, env=env)
    purelib = Path(
        _run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            cwd=root,
            env=env,
        ).strip()
    )
    # Only a path: the .pth files over there (our own editable install among them) stay unread.
    (purelib / "_heavy_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [
            *pip,
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=root,
        env=env,
    )
    return venv / "bin"


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working folder away from the source tree and an environment without PYTHONPATH."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FOCUSDESK_DATA_DIR")}
    env["HF_HUB_OFFLINE"] = "1"
    return cwd, env


def test_the_installed_wheel_runs_doctor_demo_and_rank(
    installed: Path, outside: tuple[Path, dict[str, str]]
) -> None:
    cwd, env = outside
    where = _run(
        [
            str(installed / "python"),
            "-c",
            "import focusdesk, focusdesk.package_data as d;"
            "print(focusdesk.__file__); print(d.migrations_dir()); print(d.demo_dir())",
        ],
        cwd=cwd,
        env=env,
    ).split()
    package = Path(where[0]).parent
    assert package.is_relative_to(installed.parent), where
    assert Path(where[1]) == package / "migrations"
    assert Path(where[2]) == package / "resources" / "demo"

    focusdesk = [str(installed / "focusdesk"), "--data-dir", str(cwd / "demo")]
    report = json.loads(_run([*focusdesk, "doctor", "--json"], cwd=cwd, env=env))
    assert report["data_dir"] == str(cwd / "demo")
    assert report["model_dim"] == 384

    synced = _run([*focusdesk, "demo", "--no-window"], cwd=cwd, env=env)
    assert "Demo notes: 38 added" in synced
    assert "Demo inbox: 58 added" in synced

    ranked = [
        json.loads(line)
        for line in _run(
            [*focusdesk, "rank", "--top", "5", "--json"], cwd=cwd, env=env
        ).splitlines()
    ]
    assert len(ranked) == 5
    assert all(row["goal"] and row["evidence"] for row in ranked)

    env["XDG_DATA_HOME"] = str(cwd / "xdg-data")
    _run([str(installed / "focusdesk"), "desktop-entry", "install"], cwd=cwd, env=env)
    entry = cwd / "xdg-data" / "applications" / "org.focusdesk.FocusDesk.desktop"
    assert f"TryExec={installed / 'focusdesk'}" in entry.read_text()
    icon = (
        cwd / "xdg-data" / "icons" / "hicolor" / "512x512" / "apps" / "org.focusdesk.FocusDesk.png"
    )
    assert icon.stat().st_size > 1000


def test_a_profile_of_the_previous_release_opens_and_upgrades_after_install(
    installed: Path, outside: tuple[Path, dict[str, str]]
) -> None:
    cwd, env = outside
    profile = cwd / "profile"
    profile.mkdir()
    shutil.copy2(RELEASE_0004, profile / "focusdesk.sqlite3")
    focusdesk = [str(installed / "focusdesk"), "--data-dir", str(profile)]

    goals = _run([*focusdesk, "goals", "list"], cwd=cwd, env=env)
    assert "Ship the low-power firmware" in goals
    assert "Plan the holidays" in goals
    assert "Release notes vault" in _run([*focusdesk, "sources", "list"], cwd=cwd, env=env)

    heads = _run(
        [
            str(installed / "python"),
            "-c",
            "from alembic.config import Config; from alembic.script import ScriptDirectory;"
            "from focusdesk.package_data import migrations_dir; c = Config();"
            "c.set_main_option('script_location', str(migrations_dir()));"
            "print(*ScriptDirectory.from_config(c).get_heads())",
        ],
        cwd=cwd,
        env=env,
    ).split()
    with sqlite3.connect(profile / "focusdesk.sqlite3") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("items", "chunks", "feedback")
        ]
    assert [version] == heads
    assert counts == [3, 6, 1]
