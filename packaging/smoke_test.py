"""Smoke test of the one-folder bundle: run it the way a user would, on this machine.

    xvfb-run -a -s "-screen 0 1280x800x24" python packaging/smoke_test.py dist/focusdesk

1. ``doctor`` (loads the bundled model) and ``demo --no-window`` (encodes with it);
2. a home that cannot hold folders, and a read-only data dir: a sentence, exit 1;
3. the desktop app under X (Xvfb): the time from starting the program to its first
   window mapped on screen (``xwininfo``), first start then ``--starts`` more;
4. a screenshot of that window (``--screenshot``, default dist/focusdesk-first-window.png);
5. a second start on the same profile brings the first forward and exits at once.

Prints one JSON report (sizes and times) and exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW_TIMEOUT_S = 60.0


def fail(message: str) -> None:
    print(f"SMOKE TEST FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def run(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def mapped_focusdesk_window() -> str | None:
    """The id of a viewable top-level window titled FocusDesk…, if there is one."""
    tree = subprocess.run(["xwininfo", "-root", "-children"], capture_output=True, text=True).stdout
    for wid in re.findall(r'^\s+(0x[0-9a-f]+) "FocusDesk[^"]*"', tree, re.MULTILINE):
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True).stdout
        if "Map State: IsViewable" in info:
            return wid
    return None


def start_window(
    exe: Path, profile: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], float]:
    """Start the app; (the process, seconds until its window is on screen)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe), "--data-dir", str(profile)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while time.monotonic() - started < WINDOW_TIMEOUT_S:
        if mapped_focusdesk_window() is not None:
            return proc, time.monotonic() - started
        if proc.poll() is not None:
            fail(
                f"the app exited ({proc.returncode}) before showing a window: {proc.stderr.read()}"
            )
        time.sleep(0.02)
    proc.kill()
    fail(f"no window within {WINDOW_TIMEOUT_S:.0f} s")
    raise AssertionError


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def screenshot(out: Path) -> None:
    """The whole X screen as a PNG (Qt's xcb screen grab)."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    screen = QGuiApplication.primaryScreen()
    if screen is None or not screen.grabWindow(0).save(str(out), "PNG"):
        fail(f"could not save a screenshot to {out}")
    del app


def read_only_run(exe: Path, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``doctor`` on a read-only ``folder`` (a read-only mount when root)."""
    command = [str(exe), "--data-dir", str(folder), "doctor", "--no-model"]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return run(command, env)
    script = 'mount -t tmpfs -o ro none "$0" && exec "$@"'
    return run(["unshare", "-rm", "sh", "-c", script, str(folder), *command], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the bundle folder (dist/focusdesk)")
    parser.add_argument("--starts", type=int, default=3, help="window starts after the first")
    parser.add_argument("--screenshot", type=Path, default=Path("dist/focusdesk-first-window.png"))
    args = parser.parse_args(argv)
    exe = args.bundle.resolve() / "focusdesk"
    if not exe.is_file():
        fail(f"{exe} not found: run `make package` first")
    if not os.environ.get("DISPLAY"):
        fail("no DISPLAY: run under xvfb-run")
    report: dict[str, object] = {"bundle": str(args.bundle), "size_bytes": folder_size(args.bundle)}
    report["size_gb"] = round(int(report["size_bytes"]) / 1e9, 3)  # type: ignore[call-overload]

    tmp = Path(tempfile.mkdtemp(prefix="focusdesk-smoke-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FOCUSDESK_DATA_DIR")}
    env.update(
        HOME=str(tmp / "home"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_CACHE_HOME=str(tmp / "xdg-cache"),
        HF_HUB_OFFLINE="1",
        QT_QPA_PLATFORM="xcb",
    )
    profile = tmp / "profile"

    # 1. doctor (the model loads from the bundle), then the demo (it encodes with it).
    began = time.monotonic()
    done = run([str(exe), "--data-dir", str(profile), "doctor", "--json"], env)
    if done.returncode != 0:
        fail(f"doctor: {done.stderr}")
    doctor = json.loads(done.stdout)
    if doctor.get("model_dim") != 384 or not str(doctor.get("model_path", "")).startswith(
        str(args.bundle.resolve())
    ):
        fail(f"doctor did not load the bundled model: {doctor}")
    report["doctor_s"] = round(time.monotonic() - began, 2)
    report["doctor"] = {k: doctor[k] for k in ("focusdesk", "packages", "device", "model_path")}
    began = time.monotonic()
    done = run([str(exe), "--data-dir", str(profile), "demo", "--no-window"], env)
    if done.returncode != 0 or "Demo inbox: 58 added" not in done.stdout:
        fail(f"demo --no-window: {done.stdout}{done.stderr}")
    report["demo_sync_s"] = round(time.monotonic() - began, 2)

    # 2. No writable home; a read-only data dir.
    home_file = tmp / "home-is-a-file"
    home_file.write_text("")
    no_home = {k: v for k, v in env.items() if not k.startswith("XDG_")}
    no_home["HOME"] = str(home_file)
    done = run([str(exe), "doctor", "--no-model"], no_home)
    if done.returncode != 1 or "cannot write to its folder" not in done.stderr:
        fail(f"no writable home: exit {done.returncode}: {done.stderr}")
    if "Traceback" in done.stderr:
        fail(f"no writable home gave a traceback: {done.stderr}")
    report["no_writable_home"] = done.stderr.strip().splitlines()[0]
    read_only = tmp / "read-only"
    read_only.mkdir()
    done = read_only_run(exe, read_only, env)
    if done.returncode != 1 or "cannot write to its folder" not in done.stderr:
        fail(f"read-only data dir: exit {done.returncode}: {done.stderr}")
    report["read_only_data_dir"] = done.stderr.strip().splitlines()[0]

    # 3. First window: the first start of the app, then more starts.
    proc, first = start_window(exe, profile, env)
    report["first_window_first_start_s"] = round(first, 3)
    # 4. Screenshot, once the window has painted its content.
    time.sleep(3)
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot(args.screenshot)
    report["screenshot"] = str(args.screenshot)
    # 5. A second start on the same profile: the first comes forward, the second exits.
    began = time.monotonic()
    second = run([str(exe), "--data-dir", str(profile)], env, timeout=60)
    if second.returncode != 0 or "already running" not in second.stdout:
        fail(f"second instance: exit {second.returncode}: {second.stdout}{second.stderr}")
    if proc.poll() is not None:
        fail("the first instance exited when the second started")
    report["second_instance_s"] = round(time.monotonic() - began, 2)
    stop(proc)
    starts = []
    for _ in range(max(0, args.starts)):
        proc, seconds = start_window(exe, profile, env)
        starts.append(round(seconds, 3))
        stop(proc)
    report["first_window_later_starts_s"] = starts
    print(json.dumps(report, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
