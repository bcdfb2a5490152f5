"""Where a profile's files live.

Override order: ``--data-dir`` > ``FOCUSDESK_DATA_DIR`` > the platform default
(platformdirs). With an explicit data dir the whole profile (database, index,
settings, logs, caches) lives inside that one folder.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from focusdesk.errors import KnownError

ENV_DATA_DIR = "FOCUSDESK_DATA_DIR"
APP_NAME = "FocusDesk"


@dataclass(frozen=True)
class Paths:
    """All the file locations of one profile."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "focusdesk.sqlite3"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def index_dir(self) -> Path:
        return self.cache_dir / "index"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure(self) -> Paths:
        """Create the folders (not the files), check that they can be written, return self.

        A folder that cannot be created or written (no writable home, a read-only data
        dir or disk) is a ``KnownError`` that says which folder and why.
        """
        for d in (self.data_dir, self.config_dir, self.cache_dir, self.index_dir, self.log_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=d):
                    pass
            except OSError as exc:
                raise KnownError(
                    f"FocusDesk cannot write to its folder {d}: {exc.strerror or exc}.",
                    hint="Give FocusDesk a writable folder with --data-dir DIR or "
                    f"{ENV_DATA_DIR}, or make this one writable.",
                ) from exc
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> Paths:
    """The profile paths, honouring the override order."""
    chosen = data_dir if data_dir is not None else os.environ.get(ENV_DATA_DIR) or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        return Paths(data_dir=root, config_dir=root, cache_dir=root / "cache")
    import platformdirs

    return Paths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
