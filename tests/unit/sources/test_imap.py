"""IMAP login decisions that a real server cannot be made to show on demand.

Everything else about the IMAP source runs against a real Dovecot in
tests/integration/imap/.
"""

from __future__ import annotations

import imaplib
from typing import Any

import pytest
from imapclient.exceptions import LoginError

from focusdesk.errors import SourceError
from focusdesk.sources.credentials import PasswordRequest, PasswordStore
from focusdesk.sources.imap import ImapAccount, ImapIngester

HOST, PORT = "127.0.0.1", 9993


class ScriptedClient:
    """Stands in for IMAPClient's logins: each call takes the next scripted outcome, and
    an imaplib error comes out as imapclient raises it (a LoginError raised while
    handling it)."""

    def __init__(self, outcomes: list[imaplib.IMAP4.error | None]) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[str, str, str]] = []

    def _next(self, how: str, user: str, password: str) -> None:
        self.calls.append((how, user, password))
        outcome = self.outcomes.pop(0)
        if outcome is None:
            return
        try:
            raise outcome
        except imaplib.IMAP4.error as exc:
            raise LoginError(str(exc))  # noqa: B904 (as imapclient does: a context, no cause)

    def login(self, user: str, password: str) -> None:
        self._next("LOGIN", user, password)

    def plain_login(self, user: str, password: str) -> None:
        self._next("PLAIN", user, password)


def ingester(asked: list[PasswordRequest], answer: str | None = "typed") -> ImapIngester:
    passwords = PasswordStore(use_keyring=False)
    passwords.set("ann", HOST, PORT, "saved")

    def provider(request: PasswordRequest) -> str | None:
        asked.append(request)
        return answer

    passwords.provider = provider
    return ImapIngester(ImapAccount(host=HOST, user="ann", port=PORT), passwords)


def test_ascii_uses_login_and_anything_else_authenticate_plain() -> None:
    ing = ingester([])
    client = ScriptedClient([None, None])
    ing._login(client, "saved")  # type: ignore[arg-type]
    ing._login(client, "pässwort")  # type: ignore[arg-type]
    assert [c[0] for c in client.calls] == ["LOGIN", "PLAIN"]


def test_a_connection_dropped_during_login_is_retried_not_called_a_wrong_password() -> None:
    from focusdesk.sources.imap import _Transient

    asked: list[PasswordRequest] = []
    ing = ingester(asked)
    client = ScriptedClient([imaplib.IMAP4.abort("socket error: EOF")])
    with pytest.raises(_Transient, match="broke during login"):
        ing._login(client, "saved")  # type: ignore[arg-type]
    assert asked == []  # nobody was told the password was wrong
    assert ing.passwords.get("ann", HOST, PORT) == "saved"


def test_a_typed_password_survives_a_drop_on_its_first_try() -> None:
    from focusdesk.sources.imap import _Transient

    asked: list[PasswordRequest] = []
    ing = ingester(asked)
    client = ScriptedClient(
        [
            imaplib.IMAP4.error("[AUTHENTICATIONFAILED] no"),
            imaplib.IMAP4.abort("EOF"),
        ]
    )
    with pytest.raises(_Transient) as exc:
        ing._login(client, "saved")  # type: ignore[arg-type]
    assert exc.value.password == "typed"  # the next attempt uses what the user typed
    assert len(asked) == 1


def test_a_refused_password_is_a_clear_error_after_one_question() -> None:
    asked: list[PasswordRequest] = []
    ing = ingester(asked, answer=None)
    client: Any = ScriptedClient([imaplib.IMAP4.error("[AUTHENTICATIONFAILED] no")])
    with pytest.raises(SourceError, match="wrong user name or password"):
        ing._login(client, "saved")
    assert len(asked) == 1


class RefusingFetchClient:
    """FETCH answers NO for any batch that holds ``bad``; the rest are sent."""

    def __init__(self, bad: int) -> None:
        self.bad = bad
        self.fetches: list[list[int]] = []

    def fetch(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        self.fetches.append(list(uids))
        if self.bad in uids:
            raise imaplib.IMAP4.error("FETCH failed: NO [SERVERBUG] Internal error")
        return {
            u: {
                b"BODY[]": (
                    f"From: a@example.org\r\nSubject: M{u}\r\nMessage-ID: <m{u}@example.org>\r\n"
                    f"Date: Tue, 05 Mar 2024 09:00:0{u} +0000\r\n\r\nBody {u}.\r\n"
                ).encode(),
                b"FLAGS": (),
            }
            for u in uids
        }


def test_a_message_the_server_will_not_send_costs_only_itself() -> None:
    from focusdesk.sources.base import IngestFailure, RawItem
    from focusdesk.sources.imap import _FolderProgress

    ing = ingester([])
    client: Any = RefusingFetchClient(bad=3)
    progress = _FolderProgress(7, 0)
    out = list(ing._fetch_batch(client, "INBOX", [1, 2, 3, 4], progress))
    assert [o.title for o in out if isinstance(o, RawItem)] == ["M1", "M2", "M4"]
    (failure,) = [o for o in out if isinstance(o, IngestFailure)]
    assert "UID 3" in failure.ref
    assert "would not send it" in failure.reason
    assert progress.last_uid == 4  # the next sync does not stall on it
    assert client.fetches[0] == [1, 2, 3, 4]


class FixedFetchClient:
    """FETCH answers with the given messages and flags."""

    def __init__(self, messages: dict[int, tuple[bytes, tuple[bytes, ...]]]) -> None:
        self.messages = messages

    def fetch(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        return {
            u: {b"BODY[]": self.messages[u][0], b"FLAGS": self.messages[u][1]}
            for u in uids
            if u in self.messages
        }


def test_fetched_messages_never_carry_a_lone_surrogate() -> None:
    from pathlib import Path

    from focusdesk.sources.base import RawItem
    from focusdesk.sources.imap import _FolderProgress

    data = Path(__file__).resolve().parents[2] / "data" / "mail"
    client: Any = FixedFetchClient(
        {
            1: ((data / "lone-surrogates.eml").read_bytes(), (b"\\Seen", b"caf\xe9")),
            2: ((data / "big5-subject.eml").read_bytes(), ()),
        }
    )
    out = list(ingester([])._fetch_batch(client, "INBOX", [1, 2], _FolderProgress(7, 0)))
    items = [o for o in out if isinstance(o, RawItem)]
    assert [i.title for i in items] == ["Plan \ufffd review", "會議通知：下週一"]
    for item in items:
        for text in (item.external_id, item.title, item.text, item.body, item.author or ""):
            text.encode("utf-8")
        for value in item.meta.values():
            str(value).encode("utf-8")


def test_a_folder_name_that_is_not_valid_text_is_refused() -> None:
    with pytest.raises(SourceError, match="not a valid IMAP folder name"):
        ImapAccount.from_config({"host": "h", "user": "u", "folders": ["Caf\udce9"]})
