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
