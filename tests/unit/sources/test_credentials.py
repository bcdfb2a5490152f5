from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keyring.core
import pytest
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, NoKeyringError
from keyring_backends import MemoryKeyring

from focusdesk.errors import SourceError
from focusdesk.sources.credentials import (
    SERVICE,
    PasswordNeeded,
    PasswordRequest,
    PasswordStore,
    account_key,
    terminal_password_provider,
)

SECRET = "s3cret-Pw-unit-7c1"


class LockedKeyring(MemoryKeyring):
    """A keyring whose every call fails (locked, D-Bus gone, ...)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


class PlaintextFileKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's file backends, which FocusDesk must never use."""


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_the_key_names_the_account() -> None:
    assert account_key("ann", "Mail.Example.com", 993) == "imap:ann@mail.example.com:993"
    assert SERVICE == "FocusDesk"


def test_a_real_keyring_keeps_the_password_under_the_documented_key() -> None:
    backend = MemoryKeyring()
    store = PasswordStore(backend=backend)
    assert store.persistent is True
    assert store.set("ann", "mail.example.com", 993, SECRET) is True
    assert backend.data == {("FocusDesk", "imap:ann@mail.example.com:993"): SECRET}
    assert PasswordStore(backend=backend).get("ann", "mail.example.com", 993) == SECRET
    store.delete("ann", "mail.example.com", 993)
    assert backend.data == {}
    assert store.get("ann", "mail.example.com", 993) is None
    store.delete("ann", "mail.example.com", 993)  # deleting nothing is fine


def test_without_a_keyring_the_password_lives_in_memory_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = fail.Keyring()
    with pytest.raises(NoKeyringError):  # what keyring does on a server: even get raises
        backend.get_password(SERVICE, "x")
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    monkeypatch.setenv("HOME", str(tmp_path))
    store = PasswordStore()  # the system default, which is the fail backend here
    assert store.persistent is False
    assert "memory" in store.backend_name
    assert store.get("ann", "h", 993) is None
    assert store.set("ann", "h", 993, SECRET) is False
    assert store.get("ann", "h", 993) == SECRET
    assert PasswordStore().get("ann", "h", 993) is None  # another run knows nothing
    assert files_containing(tmp_path, SECRET) == []


@pytest.mark.parametrize("backend", [null.Keyring(), PlaintextFileKeyring()], ids=["null", "alt"])
def test_keyrings_that_do_not_store_safely_are_not_used(backend: Any) -> None:
    store = PasswordStore(backend=backend)
    assert store.persistent is False
    assert store.set("ann", "h", 993, SECRET) is False
    assert store.get("ann", "h", 993) == SECRET
    if isinstance(backend, PlaintextFileKeyring):
        assert backend.data == {}


def test_an_empty_keyring_chain_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import chainer

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert PasswordStore(backend=chainer.ChainerBackend()).persistent is False
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextFileKeyring()])
    assert PasswordStore(backend=chainer.ChainerBackend()).persistent is False
    safe = MemoryKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextFileKeyring(), safe])
    store = PasswordStore(backend=chainer.ChainerBackend())
    assert store.set("ann", "h", 993, SECRET) is True
    assert safe.data == {(SERVICE, "imap:ann@h:993"): SECRET}


def test_a_failing_keyring_falls_back_to_memory_and_logs_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store = PasswordStore(backend=LockedKeyring())
    assert store.get("ann", "h", 993) is None
    assert store.set("ann", "h", 993, SECRET) is False
    assert store.get("ann", "h", 993) == SECRET
    assert "KeyringLocked" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in repr(store)


def test_the_provider_is_asked_once_and_a_declined_prompt_is_a_clear_error() -> None:
    asked: list[PasswordRequest] = []

    def decline(request: PasswordRequest) -> str | None:
        asked.append(request)
        return None

    store = PasswordStore(use_keyring=False, provider=decline)
    for _ in range(2):
        with pytest.raises(PasswordNeeded) as exc:
            store.require("ann", "h", 993)
    assert len(asked) == 1
    assert asked[0].account == "ann@h:993"
    assert asked[0].prompt == "IMAP password for ann@h:993: "
    assert isinstance(exc.value, SourceError)
    assert exc.value.message == "A password is needed for ann@h:993."
    assert exc.value.hint is not None
    assert "cannot remember it" in exc.value.hint  # no keyring: say so
    store.reset_prompts()
    with pytest.raises(PasswordNeeded):
        store.require("ann", "h", 993)
    assert len(asked) == 2


def test_a_typed_password_is_saved_only_once_the_server_accepted_it() -> None:
    backend = MemoryKeyring()
    store = PasswordStore(backend=backend, provider=lambda request: SECRET)
    assert store.require("ann", "h", 993) == SECRET
    assert backend.data == {}  # not yet: the server has not said yes
    store.accepted("ann", "h", 993)
    assert backend.data == {(SERVICE, "imap:ann@h:993"): SECRET}


def test_a_rejected_password_is_forgotten_for_the_run_and_asked_again_once() -> None:
    backend = MemoryKeyring()
    backend.set_password(SERVICE, "imap:ann@h:993", "old-pw")
    answers = iter(["new-pw"])
    store = PasswordStore(backend=backend, provider=lambda request: next(answers))
    assert store.require("ann", "h", 993) == "old-pw"
    store.rejected("ann", "h", 993)
    assert store.ask("ann", "h", 993, retry=True) == "new-pw"
    assert store.ask("ann", "h", 993, retry=True) is None  # once per run
    store.accepted("ann", "h", 993)
    assert backend.data[(SERVICE, "imap:ann@h:993")] == "new-pw"


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        PasswordStore(use_keyring=False).set("ann", "h", 993, "")


def test_the_terminal_provider_uses_getpass(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return SECRET

    monkeypatch.setattr("getpass.getpass", getpass)
    ask = terminal_password_provider()
    assert ask(PasswordRequest("ann", "h", 993, retry=True)) == SECRET
    assert prompts == ["The server rejected the password. IMAP password for ann@h:993: "]

    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof)
    assert ask(PasswordRequest("ann", "h", 993)) is None


def test_removing_an_imap_source_deletes_its_password_unless_shared(fd: Any) -> None:
    from focusdesk.errors import KnownError
    from focusdesk.sources.imap import imap_source

    backend = MemoryKeyring()
    fd.sources.passwords = PasswordStore(backend=backend)
    tls = fd.sources.add("imap", imap_source("mail.example.com", "ann")[0], config={})
    same_account = fd.sources.add(
        "imap", imap_source("mail.example.com", "ann", 993, starttls=True)[0], config={}
    )
    bob = fd.sources.add("imap", imap_source("mail.example.com", "bob")[0], config={})
    assert fd.sources.set_password(tls.id, SECRET) is True
    fd.sources.set_password(bob.id, "bob-pw")
    ann_key = (SERVICE, "imap:ann@mail.example.com:993")
    fd.sources.remove(tls.id)
    assert backend.data[ann_key] == SECRET  # the other source still uses ann's account
    fd.sources.remove(same_account.id)
    assert backend.data == {(SERVICE, "imap:bob@mail.example.com:993"): "bob-pw"}
    mbox = fd.sources.add("mbox", __file__)  # any file passes the mbox check
    with pytest.raises(KnownError, match="not an IMAP account"):
        fd.sources.set_password(mbox.id, "x")
