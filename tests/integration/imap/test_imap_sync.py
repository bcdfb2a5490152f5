"""IMAP sources against a real Dovecot on loopback: what a user would notice."""

from __future__ import annotations

import contextlib
import imaplib
import io
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from dovecot_server import HOST, Dovecot, ImapUser, message
from keyring_backends import MemoryKeyring
from sqlalchemy import select

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.credentials import SERVICE, PasswordRequest, PasswordStore, account_key
from focusdesk.sources.imap import ImapAccount, ImapIngester, account_from_source
from focusdesk.store.models import Item, Source

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


# -- helpers -----------------------------------------------------------------------------
def add_imap(
    fd: FocusDesk,
    dovecot: Dovecot,
    user: ImapUser,
    *,
    password: str | None = None,
    store_password: bool = True,
    **source: Any,
) -> int:
    """Add ``user``'s account as a source of ``fd`` and store its password."""
    uri, config = dovecot.source(user, **source)
    sid = fd.sources.add("imap", uri, config=config).id
    if store_password:
        fd.sources.set_password(sid, password or user.password)
    return sid


def stored(fd: FocusDesk, sid: int) -> list[tuple[str, str]]:
    """(external_id, content_hash) of every item of the source, sorted."""
    with fd.store.session() as s:
        rows = s.execute(
            select(Item.external_id, Item.content_hash).where(Item.source_id == sid)
        ).all()
    return sorted((r.external_id, r.content_hash) for r in rows)


def sync_state(fd: FocusDesk, sid: int) -> dict[str, Any]:
    with fd.store.session() as s:
        src = s.get(Source, sid)
        assert src is not None
        return dict(src.sync_state)


def ingester(dovecot: Dovecot, user: ImapUser, **source: Any) -> ImapIngester:
    uri, config = dovecot.source(user, **source)
    passwords = PasswordStore(use_keyring=False)
    passwords.set(user.name, dovecot.host, config["port"], user.password)
    return ImapIngester(account_from_source(uri, config), passwords)


def scan(ing: ImapIngester, state: dict[str, Any] | None = None) -> list[RawItem | IngestFailure]:
    return list(ing.scan(state or {}))


@pytest.fixture
def fd(fd: FocusDesk) -> FocusDesk:
    """The test profile, with passwords in an in-memory keyring."""
    fd.sources.passwords = PasswordStore(backend=MemoryKeyring())
    return fd


@contextlib.contextmanager
def fake_server(greeting: bytes | None) -> Iterator[tuple[int, list[bytes]]]:
    """A loopback TCP peer: sends ``greeting`` and answers CAPABILITY without STARTTLS,
    or (greeting None) accepts and never says a word. Yields (port, lines received)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((HOST, 0))
    srv.listen(8)
    srv.settimeout(0.1)
    received: list[bytes] = []
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        conn.settimeout(0.1)
        with conn:
            if greeting is None:
                while not stop.is_set():
                    time.sleep(0.05)
                return
            conn.sendall(greeting)
            buf = b""
            while not stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buf += chunk
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    received.append(line)
                    tag, _, rest = line.partition(b" ")
                    command = rest.split(b" ", 1)[0].upper()
                    if command == b"CAPABILITY":
                        conn.sendall(
                            b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n"
                        )
                    elif command == b"LOGOUT":
                        conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                        return
                    else:
                        conn.sendall(tag + b" NO not here\r\n")

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1], received
    finally:
        stop.set()
        thread.join(2)
        srv.close()


# -- (a) read-only: flags never change ---------------------------------------------------
def test_sync_reads_mail_and_never_changes_flags(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.append(imap_user, [message(n) for n in range(1, 6)])
    with dovecot.client(imap_user) as c:
        c.select_folder("INBOX")
        c.add_flags([2], [b"\\Flagged"])
    before = dovecot.flags(imap_user)
    assert not any(b"\\Seen" in f for f in before.values())

    sid = add_imap(fd, dovecot, imap_user)
    summary = fd.sources.sync()

    report = summary.reports[0]
    assert report.error is None
    assert (report.added, report.failed) == (5, 0)
    assert dovecot.flags(imap_user) == before  # no \Seen added, nothing removed
    ids = [e for e, _ in stored(fd, sid)]
    assert ids == sorted(f"INBOX/<msg-{n}@example.com>" for n in range(1, 6))
    with fd.store.session() as s:
        item = s.scalars(select(Item).where(Item.external_id == "INBOX/<msg-2@example.com>")).one()
        assert item.title == "Message number 2"
        assert item.author == "Sender 2 <sender2@example.com>"
        assert item.meta["folder"] == "INBOX"
        assert item.meta["uid"] == 2
        assert item.meta["flags"] == ["\\Flagged"]
        assert item.meta["uidvalidity"] == dovecot.uidvalidity(imap_user)
    state = sync_state(fd, sid)
    assert state == {
        "folders": {"INBOX": {"uidvalidity": dovecot.uidvalidity(imap_user), "last_uid": 5}}
    }
    assert fd.sources.all()[0].last_error is None
    # Nothing about the account's password ended up in the source's config.
    with fd.store.session() as s:
        src = s.get(Source, sid)
        assert src is not None
        assert imap_user.password not in repr(src.config)
        assert src.uri == f"imaps://{imap_user.name}@127.0.0.1:{dovecot.imaps_port}/"


# -- (b) incremental by UID --------------------------------------------------------------
def test_incremental_sync_fetches_only_new_uids(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.append(imap_user, [message(n) for n in range(1, 6)])
    ing = ingester(dovecot, imap_user)
    first = scan(ing)
    assert len(first) == 5
    assert ing.stats.fetched == 5
    state = ing.result.state
    assert ing.result.complete is False  # an incremental scan never marks mail vanished

    dovecot.append(imap_user, [message(n) for n in range(6, 9)])
    second = scan(ing, state)
    assert ing.stats.fetched == 3
    assert ing.stats.fetched_uids == {"INBOX": [6, 7, 8]}
    assert [i.external_id for i in second if isinstance(i, RawItem)] == [
        f"INBOX/<msg-{n}@example.com>" for n in (6, 7, 8)
    ]
    assert ing.result.state["folders"]["INBOX"]["last_uid"] == 8

    third = scan(ing, ing.result.state)
    assert third == []
    assert ing.stats.fetched == 0
    assert ing.stats.fetch_commands == 0

    # Through the whole pipeline: the second sync adds the new ones and touches nothing else.
    sid = add_imap(fd, dovecot, imap_user)
    assert fd.sources.sync().reports[0].added == 8
    dovecot.append(imap_user, [message(9)])
    report = fd.sources.sync().reports[0]
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 0, 0, 0)
    assert len(stored(fd, sid)) == 9


def test_batches_are_bounded_and_several_folders_are_read(
    dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.append(imap_user, [message(n) for n in range(1, 8)])
    dovecot.append(imap_user, [message(n) for n in range(100, 103)], folder="Archive")
    ing = ingester(dovecot, imap_user, folders=["INBOX", "Archive", "Missing"])
    ing.batch_size = 3
    results = scan(ing)
    items = [r for r in results if isinstance(r, RawItem)]
    failures = [r for r in results if isinstance(r, IngestFailure)]
    assert ing.stats.fetch_commands == 3 + 1  # 7 = 3+3+1 in INBOX, 3 in Archive
    assert len(items) == 10
    assert {i.external_id.split("/", 1)[0] for i in items} == {"INBOX", "Archive"}
    assert [f.ref for f in failures] == [f"{imap_user.name}@127.0.0.1/Missing"]
    assert "could not be opened" in failures[0].reason
    assert set(ing.result.state["folders"]) == {"INBOX", "Archive"}


# -- (c) UIDVALIDITY changes -------------------------------------------------------------
def test_uidvalidity_change_loses_and_duplicates_nothing(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    originals = [message(n) for n in range(1, 5)] + [
        message(5, subject="No id here", message_id=None)
    ]
    dovecot.append(imap_user, originals)
    sid = add_imap(fd, dovecot, imap_user)
    assert fd.sources.sync().reports[0].added == 5
    before = stored(fd, sid)
    old_validity = sync_state(fd, sid)["folders"]["INBOX"]["uidvalidity"]
    assert any(e.startswith("INBOX/sha256:") for e, _ in before)

    # The server loses its index: every UID means something else now.
    deadline = time.monotonic() + 5
    while True:
        dovecot.drop_mailbox(imap_user)
        dovecot.append(imap_user, [message(6), *reversed(originals)])
        if dovecot.uidvalidity(imap_user) != old_validity:
            break
        assert time.monotonic() < deadline, "Dovecot kept the same UIDVALIDITY"
        time.sleep(1.1)

    report = fd.sources.sync().reports[0]
    assert report.error is None
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 0, 5, 0)
    after = stored(fd, sid)
    assert len(after) == len({e for e, _ in after}) == 6  # no duplicates
    assert set(before) <= set(after)  # nothing lost, nothing changed
    assert {e for e, _ in after} - {e for e, _ in before} == {"INBOX/<msg-6@example.com>"}
    new_state = sync_state(fd, sid)["folders"]["INBOX"]
    assert new_state == {"uidvalidity": dovecot.uidvalidity(imap_user), "last_uid": 6}


def test_messages_sharing_a_message_id_are_all_kept(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    # One's own post and the list's copy of it; later a resend under the same id.
    own = message(1, body="The release is on Friday; please test the installer.")
    copy = message(1, body="The release is on Friday. [list: dev@example.com, weekly digest]")
    dovecot.append(imap_user, [own, copy])
    sid = add_imap(fd, dovecot, imap_user)
    assert fd.sources.sync().reports[0].added == 2
    first = stored(fd, sid)
    dovecot.append(imap_user, [message(1, body="Corrected: the release is on Monday.")])
    report = fd.sources.sync().reports[0]
    assert (report.added, report.updated) == (1, 0)  # a new item, not an update
    after = stored(fd, sid)
    assert len(after) == 3
    assert set(first) <= set(after)
    assert sum(1 for e, _ in after if e == "INBOX/<msg-1@example.com>") == 1

    # A UIDVALIDITY change reads them again in another order: nothing new, nothing lost.
    old_validity = sync_state(fd, sid)["folders"]["INBOX"]["uidvalidity"]
    deadline = time.monotonic() + 5
    while True:
        dovecot.drop_mailbox(imap_user)
        dovecot.append(
            imap_user, [message(1, body="Corrected: the release is on Monday."), copy, own]
        )
        if dovecot.uidvalidity(imap_user) != old_validity:
            break
        assert time.monotonic() < deadline, "Dovecot kept the same UIDVALIDITY"
        time.sleep(1.1)
    report = fd.sources.sync().reports[0]
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    assert stored(fd, sid) == after


# -- (d) TLS -----------------------------------------------------------------------------
def test_self_signed_server_is_refused_without_cafile(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.append(imap_user, [message(1)])
    add_imap(fd, dovecot, imap_user, cafile=False)
    add_imap(fd, dovecot, imap_user, cafile=False, starttls=True)
    logins = dovecot.log().count(f"Login: user=<{imap_user.name}>")
    refusals = dovecot.log().count("no auth attempts")
    reports = fd.sources.sync().reports
    for report in reports:
        assert report.error is not None
        assert report.error.startswith("The server's certificate is not trusted")
        assert "self-signed certificate" in report.error
        assert "--cafile FILE" in report.error
        assert report.added == 0
    # The password never went to the untrusted server: no login was even attempted.
    assert dovecot.log().count(f"Login: user=<{imap_user.name}>") == logins
    assert "auth failed, 1 attempts" not in dovecot.log()
    assert dovecot.log().count("no auth attempts") == refusals + 2


@pytest.mark.parametrize("starttls", [False, True], ids=["implicit-tls", "starttls"])
def test_self_signed_server_is_accepted_with_cafile(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser, starttls: bool
) -> None:
    dovecot.append(imap_user, [message(1), message(2)])
    sid = add_imap(fd, dovecot, imap_user, starttls=starttls)
    report = fd.sources.sync().reports[0]
    assert report.error is None
    assert report.added == 2
    uri = fd.sources.get(sid).uri
    port = dovecot.imap_port if starttls else dovecot.imaps_port
    assert uri == f"{'imap' if starttls else 'imaps'}://{imap_user.name}@127.0.0.1:{port}/"


def test_a_server_without_starttls_is_refused_and_never_gets_the_password() -> None:
    greeting = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plaintext only\r\n"
    with fake_server(greeting) as (port, received):
        account = ImapAccount(host=HOST, user="ann", port=port, starttls=True)
        passwords = PasswordStore(use_keyring=False)
        passwords.set("ann", HOST, port, "never-sent-pw")
        with pytest.raises(SourceError) as exc:
            list(ImapIngester(account, passwords).scan({}))
    assert "does not offer STARTTLS" in exc.value.message
    assert "never sends a password unencrypted" in exc.value.message
    assert not any(b"LOGIN" in line.upper() or b"never-sent-pw" in line for line in received)


def test_a_silent_server_times_out_and_is_retried_with_backoff() -> None:
    with fake_server(None) as (port, _):
        account = ImapAccount(host=HOST, user="ann", port=port, timeout=0.3)
        passwords = PasswordStore(use_keyring=False)
        passwords.set("ann", HOST, port, "pw")
        sleeps: list[float] = []
        ing = ImapIngester(account, passwords, sleep=sleeps.append)
        ing.backoff_base, ing.backoff_max = 4.0, 6.0
        with pytest.raises(SourceError) as exc:
            list(ing.scan({}))
    assert exc.value.message == f"Cannot reach 127.0.0.1:{port} (no answer within 0.3 s)"
    assert sleeps == [4.0, 6.0]  # exponential, capped
    assert ing.stats.connections == 3


def test_an_unreachable_server_is_a_clear_error(
    fd: FocusDesk, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.sources.imap import imap_source

    with socket.socket() as s:  # a port with nobody listening
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    uri, config = imap_source(HOST, "ann", port, cafile=dovecot.cafile)
    sid = fd.sources.add("imap", uri, config=config).id
    fd.sources.set_password(sid, "pw")
    monkeypatch.setattr(ImapIngester, "backoff_base", 0.001)
    report = fd.sources.sync().reports[0]
    assert report.error is not None
    assert report.error.startswith(f"Cannot reach 127.0.0.1:{port} (connection refused)")


def test_a_dropped_connection_resumes_after_the_last_message(
    dovecot: Dovecot, imap_user: ImapUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imapclient import IMAPClient

    dovecot.append(imap_user, [message(n) for n in range(1, 11)])
    real_fetch = IMAPClient.fetch
    calls = {"body": 0}

    def flaky_fetch(self: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        if "BODY.PEEK[]" in data:
            calls["body"] += 1
            if calls["body"] == 2:
                raise imaplib.IMAP4.abort("socket error: connection reset")
        return real_fetch(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", flaky_fetch)
    ing = ingester(dovecot, imap_user)
    ing.batch_size = 4
    sleeps: list[float] = []
    ing._sleep = sleeps.append
    items = [r for r in scan(ing) if isinstance(r, RawItem)]
    assert [i.meta["uid"] for i in items] == list(range(1, 11))  # each exactly once
    assert ing.stats.connections == 2
    assert ing.stats.retries == 1
    assert sleeps == [1.0]
    assert ing.result.state["folders"]["INBOX"]["last_uid"] == 10


def test_a_sync_that_gives_up_keeps_what_it_read_and_the_next_resumes(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imapclient import IMAPClient

    import focusdesk.sources.imap as imap_module

    dovecot.append(imap_user, [message(n) for n in range(1, 11)])
    sid = add_imap(fd, dovecot, imap_user)
    real_fetch = IMAPClient.fetch
    fetched: list[int] = []
    broken = {"on": True}

    def fetch_then_break(self: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        if "BODY.PEEK[]" in data:
            if broken["on"] and any(int(m) > 4 for m in messages):
                raise imaplib.IMAP4.abort("socket error: connection reset")
            fetched.extend(int(m) for m in messages)
        return real_fetch(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", fetch_then_break)
    monkeypatch.setattr(imap_module.ImapIngester, "batch_size", 4)
    monkeypatch.setattr(imap_module.ImapIngester, "backoff_base", 0.0)
    report = fd.sources.sync().reports[0]
    assert report.error is not None
    assert report.added == 4  # the first batch is stored although the sync gave up
    assert sync_state(fd, sid)["folders"]["INBOX"]["last_uid"] == 4
    broken["on"] = False
    fetched.clear()
    report = fd.sources.sync().reports[0]
    assert report.error is None
    assert report.added == 6
    assert min(fetched) == 5  # it went on from where it stopped
    assert len(stored(fd, sid)) == 10


# -- (e) the password never lands on disk or in a log ------------------------------------
CANARY = "canary-Pw-93f1"


def test_the_password_never_reaches_disk_or_logs(
    dovecot: Dovecot,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_encoder: Any,
) -> None:
    import keyring.core

    from focusdesk.app import FocusDesk
    from focusdesk.cli import main
    from focusdesk.paths import resolve_paths

    caplog.set_level(logging.DEBUG)
    for name in ("imapclient", "imapclient.imaplib", "focusdesk", "keyring"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    system_keyring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", system_keyring)
    good = dovecot.add_user(CANARY)
    wrong = dovecot.add_user()
    dovecot.append(good, [message(1), message(2)])

    common = ["--data-dir", str(data_dir), "-v", "sources", "add", "imap", "--host", HOST]
    tls = ["--port", str(dovecot.imaps_port), "--cafile", str(dovecot.cafile)]
    monkeypatch.setattr("sys.stdin", io.StringIO(CANARY + "\n"))
    assert main([*common, "--user", good.name, *tls, "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(CANARY + "-wrong\n"))
    assert main([*common, "--user", wrong.name, *tls, "--password-stdin"]) == 0
    key = account_key(good.name, HOST, dovecot.imaps_port)
    assert system_keyring.data[(SERVICE, key)] == CANARY

    app = FocusDesk(resolve_paths(data_dir), encoder=fake_encoder)
    try:
        summary = app.sources.sync()
    finally:
        app.close()
    assert summary.reports[0].error is None
    assert summary.reports[0].added == 2
    assert summary.reports[1].error is not None
    assert "wrong user name or password" in summary.reports[1].error
    assert main(["--data-dir", str(data_dir), "sources", "list"]) == 0

    out, err = capsys.readouterr()
    assert "last error: IMAP login failed" in out
    assert CANARY not in out + err
    assert any(r.name.startswith("imapclient") for r in caplog.records)  # it did log
    assert CANARY not in caplog.text
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.exc_info or "")
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files)
    for path in files:
        data = path.read_bytes()
        assert CANARY.encode() not in data, path
        assert CANARY.encode("utf-16-le") not in data, path


# -- (f) a wrong or missing password fails that source only ------------------------------
def test_wrong_password_fails_that_source_while_notes_still_sync(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\n\nShip the IMAP source.\n")
    (notes / "ideas.md").write_text("# Ideas\n\nRank mail by goals.\n")
    dovecot.append(imap_user, [message(1)])
    sid = add_imap(fd, dovecot, imap_user, password="not-the-password")
    fd.sources.add("notes", str(notes))

    imap_report, notes_report = fd.sources.sync().reports
    assert imap_report.error == (
        f"IMAP login failed for {imap_user.name}@127.0.0.1: wrong user name or password.\n"
        "Save the right password with `focusdesk sources password ID`."
    )
    assert notes_report.error is None
    assert notes_report.added == 2
    info = fd.sources.get(sid)
    assert info.last_error is not None
    assert info.last_error.startswith("IMAP login failed")
    assert sync_state(fd, sid) == {}


def test_a_password_that_is_not_ascii_logs_in(fd: FocusDesk, dovecot: Dovecot) -> None:
    # IMAP LOGIN is ASCII only; such a password goes by AUTHENTICATE PLAIN in UTF-8.
    user = dovecot.add_user(password=f"pässwört-{secrets.token_hex(4)}")
    dovecot.append(user, [message(1)])
    sid = add_imap(fd, dovecot, user)
    report = fd.sources.sync().reports[0]
    assert report.error is None
    assert report.added == 1
    assert fd.sources.get(sid).last_error is None


def test_a_refused_password_that_is_not_ascii_is_never_quoted(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    wrong = f"wröng-{secrets.token_hex(4)}"
    sid = add_imap(fd, dovecot, imap_user, password=wrong)
    report = fd.sources.sync().reports[0]
    assert report.error is not None
    assert "wrong user name or password" in report.error
    assert wrong not in (fd.sources.get(sid).last_error or "")


def test_missing_password_is_a_clear_error_without_anyone_to_ask(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    add_imap(fd, dovecot, imap_user, store_password=False)
    report = fd.sources.sync().reports[0]
    assert report.error is not None
    assert report.error.startswith(f"A password is needed for {imap_user.name}@127.0.0.1:")


def test_the_provider_is_asked_once_per_run_and_a_good_answer_is_saved(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.append(imap_user, [message(1)])
    sid = add_imap(fd, dovecot, imap_user, password="stale-password")
    asked: list[PasswordRequest] = []

    def provider(request: PasswordRequest) -> str:
        asked.append(request)
        return imap_user.password

    fd.sources.passwords.provider = provider
    assert fd.sources.sync().reports[0].added == 1
    assert len(asked) == 1
    assert asked[0].retry is True
    assert asked[0].account == f"{imap_user.name}@127.0.0.1:{dovecot.imaps_port}"
    # Accepted by the server, so it replaced the stale one in the keyring.
    fresh = PasswordStore(backend=fd.sources.passwords._keyring())
    port = fd.sources.get(sid).uri.rsplit(":", 1)[1].rstrip("/")
    assert fresh.get(imap_user.name, HOST, int(port)) == imap_user.password
    dovecot.append(imap_user, [message(2)])
    assert fd.sources.sync().reports[0].added == 1
    assert len(asked) == 1


def test_a_declined_prompt_is_not_repeated_in_the_same_run(
    fd: FocusDesk, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    add_imap(fd, dovecot, imap_user, store_password=False)
    asked: list[PasswordRequest] = []

    def provider(request: PasswordRequest) -> None:
        asked.append(request)
        return None

    fd.sources.passwords.provider = provider
    for _ in range(2):
        error = fd.sources.sync().reports[0].error
        assert error is not None
        assert error.startswith("A password is needed")
    assert len(asked) == 1
    assert asked[0].retry is False
    fd.sources.passwords.reset_prompts()  # a new run (the UI calls this when the user syncs again)
    fd.sources.sync()
    assert len(asked) == 2


def test_cli_sync_asks_for_a_missing_password_once_on_a_terminal(
    fd: FocusDesk,
    dovecot: Dovecot,
    imap_user: ImapUser,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from focusdesk.cli import sync as cli_sync

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    dovecot.append(imap_user, [message(1)])
    add_imap(fd, dovecot, imap_user, store_password=False)
    add_imap(fd, dovecot, imap_user, store_password=False, starttls=True)
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return imap_user.password

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", getpass)
    assert cli_sync.run(fd, argparse.Namespace(source=None, no_progress=True)) == 0
    out = capsys.readouterr().out
    assert out.count(": 1 added") == 2
    assert imap_user.password not in out
    # One prompt per account and run (the two sources use different ports: two accounts).
    assert prompts == [
        f"IMAP password for {imap_user.name}@127.0.0.1:{dovecot.imaps_port}: ",
        f"IMAP password for {imap_user.name}@127.0.0.1:{dovecot.imap_port}: ",
    ]
    assert cli_sync.run(fd, argparse.Namespace(source=None, no_progress=True)) == 0
    assert len(prompts) == 2  # the accepted passwords were kept


def test_an_account_can_be_checked_before_it_is_added(
    dovecot: Dovecot, imap_user: ImapUser
) -> None:
    from focusdesk.sources import imap  # not `from ... import test_connection`: pytest collects it

    uri, config = dovecot.source(imap_user, starttls=True)
    assert imap.test_connection(uri, config, imap_user.password) == (
        f"Connected to 127.0.0.1:{dovecot.imap_port} with STARTTLS and logged in as "
        f"{imap_user.name}."
    )
    with pytest.raises(SourceError, match="wrong user name or password"):
        imap.test_connection(uri, config, "nope")
    uri, config = dovecot.source(imap_user, cafile=False)
    with pytest.raises(SourceError, match="certificate is not trusted"):
        imap.test_connection(uri, config, imap_user.password)
