"""Keyring backends for tests only: never auto-selected, never used by the app itself.

``MemoryKeyring`` is passed to ``PasswordStore(backend=...)`` in-process.
``FileKeyring`` lets a ``focusdesk`` subprocess (which cannot share memory with the
test) find a password: ``PYTHON_KEYRING_BACKEND=keyring_backends.FileKeyring`` with
this folder on ``PYTHONPATH`` and ``FOCUSDESK_TEST_KEYRING_FILE`` naming a JSON file
in the test's temp dir (outside the profile's data dir).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

ENV_FILE = "FOCUSDESK_TEST_KEYRING_FILE"


class MemoryKeyring(KeyringBackend):
    """Passwords in a dict; records what was stored."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test-only backend: construct it explicitly")

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.data.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class FileKeyring(KeyringBackend):
    """Passwords in the JSON file named by $FOCUSDESK_TEST_KEYRING_FILE (tests only)."""

    @properties.classproperty
    def priority(cls) -> float:
        if not os.environ.get(ENV_FILE):
            raise RuntimeError(f"test-only backend: set {ENV_FILE}")
        return 1

    @property
    def _path(self) -> Path:
        return Path(os.environ[ENV_FILE])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._path.write_text(json.dumps(data), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path.write_text(json.dumps(data), encoding="utf-8")
