"""Mail account passwords: in the OS keyring, else in memory for this process only.

A password is never written to the database, the settings, a log, an exception
message or a crash report. ``PasswordStore`` keeps it in the system keyring (the
``keyring`` package: Secret Service, macOS Keychain, Windows Credential Locker) under
the service ``"FocusDesk"`` and the key ``"imap:USER@HOST:PORT"``. Where there is no
usable keyring (a server without a desktop session: ``keyring``'s ``fail`` backend
raises on every call), or only one that writes passwords to plain files
(``keyrings.alt``), passwords live in a dict of this process and are asked again on
the next run.

The password provider hook
--------------------------
When no password is known, ``PasswordStore.require`` calls ``provider`` (if set) with
a ``PasswordRequest`` and uses what it returns; ``None`` (or an empty string) means
the user declined. The provider is asked at most once per account and "run" (the
store's lifetime, or until ``reset_prompts()``), also when the server rejected the
stored password (``request.retry`` is then True). A password typed into a provider
is kept in memory at once and saved to the keyring only after the server accepted it.

- CLI: ``terminal_password_provider()`` (getpass), installed only when stdin is a TTY.
- UI: a dialog. The provider is called from the sync worker thread, not the UI
  thread, so it must hand the question to the UI thread and wait for the answer
  (e.g. a ``BlockingQueuedConnection`` signal); call ``reset_prompts()`` when the user
  starts a new sync so that a dismissed dialog is offered again.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from focusdesk.errors import SourceError

__all__ = [
    "SERVICE",
    "PasswordNeeded",
    "PasswordProvider",
    "PasswordRequest",
    "PasswordStore",
    "account_key",
    "terminal_password_provider",
]

log = logging.getLogger(__name__)

SERVICE = "FocusDesk"
"""The keyring service name every FocusDesk password is stored under."""

_UNSAFE_BACKEND_MODULES = ("keyrings.alt",)
"""Backends that keep passwords in (base64 or weakly encrypted) files: never used."""


def account_key(user: str, host: str, port: int) -> str:
    """The keyring user name of an IMAP account: ``imap:USER@HOST:PORT``."""
    return f"imap:{user}@{host.lower()}:{int(port)}"


@dataclass(frozen=True)
class PasswordRequest:
    """What a password provider is asked for: whose password, and whether it is a retry."""

    user: str
    host: str
    port: int
    retry: bool = False
    """True when the server rejected the password FocusDesk had."""

    @property
    def account(self) -> str:
        """``user@host:port``, for a prompt or a dialog title."""
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def prompt(self) -> str:
        """A one-line prompt for a terminal."""
        if self.retry:
            return f"The server rejected the password. IMAP password for {self.account}: "
        return f"IMAP password for {self.account}: "


PasswordProvider = Callable[[PasswordRequest], "str | None"]
"""Asks the user for a password; returns it, or None when the user declines."""


class PasswordNeeded(SourceError):
    """No password is known for an account and nobody could be asked for one."""


def terminal_password_provider() -> PasswordProvider:
    """A provider that asks on the terminal with getpass (no echo); EOF declines."""

    def ask(request: PasswordRequest) -> str | None:
        try:
            password = getpass.getpass(request.prompt)
        except EOFError:
            return None
        return password or None

    return ask


def _is_unsafe(backend: Any) -> bool:
    return type(backend).__module__.startswith(_UNSAFE_BACKEND_MODULES)


def _vet_backend(backend: Any) -> Any | None:
    """The backend to use, or None where it cannot store passwords or stores them unsafely."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        safe = [b for b in chained if not _is_unsafe(b)]
        if not safe:
            return None  # an empty chain silently stores nothing
        return backend if len(safe) == len(chained) else _vet_backend(safe[0])
    if _is_unsafe(backend):
        log.warning(
            "The keyring backend %s stores passwords in files; FocusDesk does not use it "
            "and keeps passwords in memory only.",
            type(backend).__name__,
        )
        return None
    return backend


class PasswordStore:
    """Account passwords in the OS keyring, with an in-memory fallback for this process.

    ``backend``: a ``keyring`` backend to use instead of ``keyring.get_keyring()``
    (tests); ``use_keyring=False`` keeps everything in memory. ``provider`` is the
    hook that asks the user (see the module docstring). Safe to share between threads.
    """

    def __init__(
        self,
        backend: Any | None = None,
        *,
        provider: PasswordProvider | None = None,
        use_keyring: bool = True,
    ) -> None:
        self.provider = provider
        self._given_backend = backend
        self._use_keyring = use_keyring
        self._backend: Any | None = None
        self._resolved = False
        self._memory: dict[str, str] = {}
        self._asked: set[str] = set()
        self._unconfirmed: set[str] = set()
        self._lock = threading.RLock()

    # -- the keyring ---------------------------------------------------------------------
    def _keyring(self) -> Any | None:
        """The usable keyring backend, resolved on first use; None means memory only."""
        with self._lock:
            if not self._resolved:
                self._resolved = True
                self._backend = None
                if self._use_keyring:
                    try:
                        if self._given_backend is not None:
                            backend = self._given_backend
                        else:
                            import keyring

                            backend = keyring.get_keyring()
                        self._backend = _vet_backend(backend)
                    except Exception as exc:  # a broken keyring setup is not fatal
                        log.warning("No system keyring: %s", type(exc).__name__)
                if self._backend is None:
                    log.info("No usable system keyring: passwords are kept for this run only.")
            return self._backend

    @property
    def persistent(self) -> bool:
        """True when passwords are saved in a system keyring (else for this run only)."""
        return self._keyring() is not None

    @property
    def backend_name(self) -> str:
        """The keyring in use, in words (for `doctor` and messages)."""
        backend = self._keyring()
        if backend is None:
            return "none (passwords are kept in memory for this run only)"
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def _keyring_call(self, what: str, fn: Callable[[Any], Any]) -> tuple[bool, Any]:
        """Run ``fn(backend)``; (False, None) when there is no keyring or it failed."""
        backend = self._keyring()
        if backend is None:
            return False, None
        try:
            return True, fn(backend)
        except Exception as exc:  # NoKeyringError, locked keyring, D-Bus gone, ...
            # Only the type: a backend's message is not ours to vet for secrets.
            log.warning("The system keyring could not %s (%s).", what, type(exc).__name__)
            return False, None

    # -- passwords -----------------------------------------------------------------------
    def get(self, user: str, host: str, port: int) -> str | None:
        """The known password of the account (memory, then keyring), or None."""
        key = account_key(user, host, port)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        ok, value = self._keyring_call("be read", lambda kr: kr.get_password(SERVICE, key))
        if ok and isinstance(value, str) and value:
            with self._lock:
                self._memory.setdefault(key, value)
            return value
        return None

    def set(self, user: str, host: str, port: int, password: str) -> bool:
        """Remember a password; returns True when it was saved in the system keyring."""
        if not password:
            raise ValueError("an empty password cannot be stored")
        key = account_key(user, host, port)
        with self._lock:
            self._memory[key] = password
            self._unconfirmed.discard(key)
        ok, _ = self._keyring_call(
            "save the password", lambda kr: kr.set_password(SERVICE, key, password)
        )
        return ok

    def delete(self, user: str, host: str, port: int) -> None:
        """Forget the account's password, in memory and in the keyring."""
        key = account_key(user, host, port)
        with self._lock:
            self._memory.pop(key, None)
            self._unconfirmed.discard(key)

        def remove(kr: Any) -> None:
            from keyring.errors import PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError):  # there was none
                kr.delete_password(SERVICE, key)

        self._keyring_call("delete the password", remove)

    def ask(self, user: str, host: str, port: int, *, retry: bool = False) -> str | None:
        """Ask the provider, at most once per account and run; None when nobody answers."""
        key = account_key(user, host, port)
        with self._lock:
            if self.provider is None or key in self._asked:
                return None
            self._asked.add(key)
            provider = self.provider
        password = provider(PasswordRequest(user, host, int(port), retry=retry))
        if not password:
            return None
        with self._lock:
            self._memory[key] = password
            self._unconfirmed.add(key)
        return password

    def require(self, user: str, host: str, port: int) -> str:
        """The account's password, asking the provider if none is known.

        Raises ``PasswordNeeded`` (a SourceError) when there is none and nobody can
        be asked (non-interactive run, or the user declined this run).
        """
        password = self.get(user, host, port) or self.ask(user, host, port)
        if password:
            return password
        if self.persistent:
            hint = (
                "Type it when `focusdesk sync` asks (run it in a terminal), or save it "
                "with `focusdesk sources password ID`."
            )
        else:
            hint = (
                "No system keyring is available, so FocusDesk cannot remember it between "
                "runs: run `focusdesk sync` in a terminal and type it when asked."
            )
        raise PasswordNeeded(f"A password is needed for {user}@{host}:{port}.", hint=hint)

    def rejected(self, user: str, host: str, port: int) -> None:
        """The server refused the password: forget it for this run (the keyring keeps it)."""
        key = account_key(user, host, port)
        with self._lock:
            self._memory.pop(key, None)
            self._unconfirmed.discard(key)

    def accepted(self, user: str, host: str, port: int) -> None:
        """The server accepted the password: save a newly typed one in the keyring."""
        key = account_key(user, host, port)
        with self._lock:
            if key not in self._unconfirmed:
                return
            self._unconfirmed.discard(key)
            password = self._memory.get(key)
        if password:
            self._keyring_call(
                "save the password", lambda kr: kr.set_password(SERVICE, key, password)
            )

    def reset_prompts(self) -> None:
        """Allow the provider to be asked again (a new run: the user started a new sync)."""
        with self._lock:
            self._asked.clear()

    def __repr__(self) -> str:  # never shows a password
        return f"PasswordStore(accounts_in_memory={len(self._memory)})"
