"""The user-level desktop integration on Linux (XDG): menu entry, icons, metainfo, autostart.

``install()`` writes the .desktop entry (its ``Exec`` and ``TryExec`` naming this
installation's program), the icons into the hicolor theme and the AppStream metainfo under
``$XDG_DATA_HOME``; ``remove()`` takes them away. ``set_autostart()`` writes or removes the
entry in ``$XDG_CONFIG_HOME/autostart`` that starts FocusDesk in the tray at login.
``check()`` finds entries whose program is gone (FocusDesk moved or reinstalled
elsewhere); ``doctor`` reports them and ``doctor --repair`` rewrites them.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from focusdesk.package_data import (
    APP_ID,
    ICON_SIZES,
    desktop_file,
    icon_png,
    icon_svg,
    metainfo_file,
)

ENTRY_NAME = f"{APP_ID}.desktop"
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share``."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def config_home() -> Path:
    """``$XDG_CONFIG_HOME``, else ``~/.config``."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def entry_path() -> Path:
    """Where the menu entry is installed."""
    return data_home() / "applications" / ENTRY_NAME


def autostart_path() -> Path:
    """Where the start-at-login entry is installed."""
    return config_home() / "autostart" / ENTRY_NAME


def launcher() -> list[str]:
    """The command that starts this installation of FocusDesk (absolute paths)."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle
        return [str(Path(sys.executable).absolute())]
    script = Path(sys.executable).absolute().with_name("focusdesk")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("focusdesk")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "focusdesk"]


def exec_quote(arg: str) -> str:
    """One argument of an ``Exec`` key, quoted as the Desktop Entry spec asks."""
    arg = arg.replace("%", "%%")
    if not arg or _RESERVED & set(arg):
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        return f'"{escaped}"'
    return arg


def render_entry(command: list[str], *, autostart: bool = False) -> str:
    """The shipped .desktop entry with ``Exec``/``TryExec`` set to ``command``."""
    lines = []
    for line in desktop_file().read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(exec_quote(a) for a in command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "X-KDE-autostart-after=panel"]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _icon_targets() -> list[tuple[Path, Path]]:
    theme = data_home() / "icons" / "hicolor"
    pairs = [(icon_png(s), theme / f"{s}x{s}" / "apps" / f"{APP_ID}.png") for s in ICON_SIZES]
    pairs.append((icon_svg(), theme / "scalable" / "apps" / f"{APP_ID}.svg"))
    return pairs


def install() -> list[Path]:
    """Install the menu entry, icons and metainfo for this user; the files written."""
    written = []
    for src, dest in _icon_targets():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written.append(dest)
    metainfo = data_home() / "metainfo" / metainfo_file().name
    _write(metainfo, metainfo_file().read_text(encoding="utf-8"))
    _write(entry_path(), render_entry(launcher()))
    return [*written, metainfo, entry_path()]


def remove() -> list[Path]:
    """Remove what ``install()`` and ``set_autostart(True)`` wrote; the files removed."""
    candidates = [dest for _src, dest in _icon_targets()]
    candidates += [data_home() / "metainfo" / metainfo_file().name, entry_path(), autostart_path()]
    removed = [p for p in candidates if p.exists()]
    for path in removed:
        path.unlink()
    return removed


def set_autostart(enabled: bool, data_dir: Path | None = None) -> None:
    """Start FocusDesk in the tray at login (on the profile in ``data_dir``), or stop."""
    if not enabled:
        autostart_path().unlink(missing_ok=True)
        return
    command = launcher()
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    _write(autostart_path(), render_entry([*command, "run", "--tray"], autostart=True))


def autostart_enabled() -> bool:
    """Whether a start-at-login entry is installed."""
    return autostart_path().is_file()


@dataclass(frozen=True)
class EntryState:
    """What ``check()`` found for one installed entry."""

    path: Path
    program: str
    """The program the entry starts (its ``TryExec``, else the first word of ``Exec``)."""
    runs: bool
    """Whether that program exists and is executable."""
    is_this: bool
    """Whether it is this installation's program."""

    def describe(self) -> str:
        """One line for ``doctor``."""
        if not self.runs:
            return (
                f"{self.path} starts {self.program}, which is gone (FocusDesk was moved "
                "or removed); `focusdesk doctor --repair` points it at this installation"
            )
        if not self.is_this:
            return f"{self.path} starts another installation, {self.program}"
        return f"{self.path} (ok)"


def _program(entry: Path) -> str:
    exec_line = try_exec = ""
    for line in entry.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("TryExec="):
            try_exec = line.removeprefix("TryExec=").strip()
        elif line.startswith("Exec="):
            exec_line = line.removeprefix("Exec=").strip()
    if try_exec:
        return try_exec
    first = exec_line.split(" ", 1)[0]
    return first.strip('"')


def check() -> list[EntryState]:
    """The installed menu and autostart entries and whether their program still runs."""
    states = []
    this = launcher()[0]
    for path in (entry_path(), autostart_path()):
        if not path.is_file():
            continue
        program = _program(path)
        resolved = shutil.which(program) if program else None
        states.append(
            EntryState(
                path=path,
                program=program,
                runs=resolved is not None,
                is_this=resolved is not None and Path(resolved).absolute() == Path(this),
            )
        )
    return states


def repair() -> list[Path]:
    """Point entries whose program is gone at this installation; the entries rewritten."""
    fixed = []
    for state in check():
        if state.runs:
            continue
        if state.path == entry_path():
            install()
        else:
            _rewrite_autostart(state.path)
        fixed.append(state.path)
    return fixed


def _rewrite_autostart(path: Path) -> None:
    """Keep the autostart entry's arguments (profile, --tray), change only its program."""
    old = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Exec="):
            old = line.removeprefix("Exec=")
    args = _split_exec(old)[1:]
    while args and args[0] in ("-m", "focusdesk"):
        args = args[1:]
    _write(path, render_entry([*launcher(), *args], autostart=True))


def _split_exec(value: str) -> list[str]:
    """Split an ``Exec`` value written by ``exec_quote`` back into arguments."""
    args: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    started = False
    for c in value.replace("%%", "%"):
        if escaped:
            current.append(c)
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
            started = True
        elif c == " " and not quoted:
            if started or current:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(c)
    if started or current:
        args.append("".join(current))
    return args
