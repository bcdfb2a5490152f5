"""A throwaway Dovecot IMAP server on loopback, for the IMAP tests and the benchmark.

The server is rendered from ``dovecot/dovecot.conf.in`` into a temp dir: listens on
127.0.0.1 only, on two free high ports (plain+STARTTLS, implicit TLS), with a
self-signed certificate made here with openssl, one passwd-file per user and Maildir
storage under the temp dir. Needs root (the Dovecot master drops privileges itself).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

TEMPLATE = HERE / "dovecot" / "dovecot.conf.in"
MAIL_USER = "vmail"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ImapUser:
    name: str
    password: str


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _listening(ports: Iterable[int]) -> bool:
    """True when every port is in LISTEN state on 127.0.0.1 (read from /proc/net/tcp)."""
    wanted = {f"0100007F:{p:04X}" for p in ports}
    found = set()
    with open("/proc/net/tcp", encoding="ascii") as fh:
        next(fh)
        for line in fh:
            fields = line.split()
            if fields[3] == "0A" and fields[1] in wanted:
                found.add(fields[1])
    return found == wanted


def ensure_mail_user() -> None:
    try:
        pwd.getpwnam(MAIL_USER)
        return
    except KeyError:
        pass
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", MAIL_USER],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cannot create the system user {MAIL_USER!r}: {proc.stderr.strip()}")


def message(
    n: int,
    *,
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = "auto",
) -> bytes:
    """A small RFC 5322 message (CRLF line ends)."""
    headers = [
        f"From: Sender {n} <sender{n}@example.com>",
        "To: ann@example.com",
        f"Subject: {subject if subject is not None else f'Message number {n}'}",
        f"Date: Tue, 05 Mar 2024 09:{n // 60 % 60:02d}:{n % 60:02d} +0000",
    ]
    if message_id == "auto":
        headers.append(f"Message-ID: <msg-{n}@example.com>")
    elif message_id is not None:
        headers.append(f"Message-ID: {message_id}")
    text = body if body is not None else f"Body of message {n}: planning notes about item {n}."
    return ("\r\n".join(headers) + "\r\n\r\n" + text + "\r\n").encode()


class Dovecot:
    """A running throwaway Dovecot and helpers to put mail into it as a user."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "dovecot.conf"
        self.cafile = root / "cert.pem"
        self.users_dir = root / "users"
        self.mail_root = root / "mail"
        self.host = HOST
        self.imap_port, self.imaps_port = _free_ports(2)
        self._n = 0

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        root = self.root
        root.chmod(0o755)
        for d in ("base", "state", "log"):
            (root / d).mkdir()
        self.mail_root.mkdir(mode=0o700)
        shutil.chown(self.mail_root, MAIL_USER, MAIL_USER)
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(root / "key.pem"), "-out", str(self.cafile),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (root / "key.pem").chmod(0o600)
        self.users_dir.mkdir()
        shutil.chown(self.users_dir, "root", "dovecot")
        self.users_dir.chmod(0o750)
        self.conf.write_text(
            TEMPLATE.read_text().format(
                instance=f"focusdesk-test-{root.name}",
                base_dir=root / "base",
                state_dir=root / "state",
                log_dir=root / "log",
                cert=self.cafile,
                key=root / "key.pem",
                mail_user=MAIL_USER,
                mail_group=grp.getgrgid(pwd.getpwnam(MAIL_USER).pw_gid).gr_name,
                mail_root=self.mail_root,
                users_dir=self.users_dir,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        # The master daemonizes; its children must not inherit a pipe we wait on.
        with (root / "log" / "startup.log").open("wb") as out:
            proc = subprocess.run(
                ["dovecot", "-c", str(self.conf)], stdout=out, stderr=out, timeout=30
            )
        if proc.returncode != 0:
            raise RuntimeError(f"Dovecot did not start:\n{self.log()}")
        deadline = time.monotonic() + 10
        while not _listening([self.imap_port, self.imaps_port]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start listening:\n{self.log()}")
            time.sleep(0.02)

    def stop(self) -> None:
        proc = subprocess.run(
            ["doveadm", "-c", str(self.conf), "stop"], capture_output=True, timeout=20
        )
        if proc.returncode != 0:
            pid_file = self.root / "base" / "master.pid"
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted((self.root / "log").glob("*.log"))
        )

    # -- users and mail ------------------------------------------------------------------
    def add_user(self, password: str | None = None) -> ImapUser:
        """A fresh user with an empty mailbox."""
        self._n += 1
        user = ImapUser(f"user{self._n}", password or f"pw-{secrets.token_hex(8)}")
        assert ":" not in user.password
        # One passwd-file per user: Dovecot checks a known file for changes at most once
        # a second, but opens a file it has not seen before at once.
        path = self.users_dir / user.name
        path.write_text(f"{user.name}:{{PLAIN}}{user.password}::::::\n")
        shutil.chown(path, "root", "dovecot")
        path.chmod(0o640)
        return user

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    @contextlib.contextmanager
    def client(self, user: ImapUser) -> Iterator[Any]:
        from imapclient import IMAPClient

        client = IMAPClient(self.host, self.imaps_port, ssl_context=self.ssl_context(), timeout=30)
        if user.password.isascii():
            client.login(user.name, user.password)
        else:  # LOGIN is ASCII only
            client.plain_login(user.name, user.password)
        try:
            yield client
        finally:
            client.logout()

    def append(self, user: ImapUser, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        """Append ``messages`` in order (MULTIAPPEND, 200 at a time), creating the folder."""
        with self.client(user) as c:
            if folder != "INBOX" and not c.folder_exists(folder):
                c.create_folder(folder)
            for start in range(0, len(messages), 200):
                c.multiappend(folder, list(messages[start : start + 200]))

    def flags(self, user: ImapUser, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.client(user) as c:
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            return {uid: d[b"FLAGS"] for uid, d in c.fetch(uids, ["FLAGS"]).items()}

    def uidvalidity(self, user: ImapUser, folder: str = "INBOX") -> int:
        with self.client(user) as c:
            return int(c.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def drop_mailbox(self, user: ImapUser) -> None:
        """Delete the user's whole Maildir: the next login gets a new UIDVALIDITY."""
        subprocess.run(
            ["doveadm", "-c", str(self.conf), "kick", user.name], capture_output=True, timeout=20
        )
        shutil.rmtree(self.mail_root / user.name)

    def source(
        self,
        user: ImapUser,
        *,
        starttls: bool = False,
        cafile: bool = True,
        folders: Sequence[str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """(uri, config) of an IMAP source for ``user`` on this server."""
        from focusdesk.sources.imap import imap_source

        return imap_source(
            self.host,
            user.name,
            self.imap_port if starttls else self.imaps_port,
            starttls=starttls,
            folders=folders,
            cafile=self.cafile if cafile else None,
        )
