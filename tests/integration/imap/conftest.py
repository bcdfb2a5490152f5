"""Fixtures: a real Dovecot on loopback (one per session) and a fresh user per test.

Skips, with the reason, where Dovecot is not installed or the tests do not run as
root (the Dovecot master needs it). Each test gets its own user, so mailboxes never
leak between tests. The server and helpers live in ``dovecot_server.py``.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dovecot_server import Dovecot, ImapUser, ensure_mail_user  # noqa: E402


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """The session's Dovecot (started once; stopped and deleted at the end)."""
    for tool in ("dovecot", "doveadm", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(
                f"{tool} is not installed: `apt-get install dovecot-imapd openssl` "
                "(the Makefile's system-deps target)"
            )
    if os.geteuid() != 0:
        pytest.skip("the Dovecot test server needs root (its master process drops privileges)")
    try:
        grp.getgrnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        pytest.skip("the dovecot/dovenull system users are missing (reinstall dovecot-core)")
    try:
        ensure_mail_user()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    root = Path(tempfile.mkdtemp(prefix="focusdesk-dovecot-"))
    server = Dovecot(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_user(dovecot: Dovecot) -> ImapUser:
    """A fresh user with an empty INBOX on the session's server."""
    return dovecot.add_user()
