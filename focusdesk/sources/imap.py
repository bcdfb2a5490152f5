"""An IMAP account as a source: TLS only, read-only, incremental by UID.

- The connection is always encrypted: implicit TLS (port 993) or STARTTLS (port 143,
  refused when the server does not offer it; never plaintext). The certificate and
  host name are verified against the system's CAs, or only against ``cafile``.
- Folders are selected read-only and messages fetched with ``BODY.PEEK[]``, so no
  flag (``\\Seen`` included) ever changes on the server.
- Incremental: per folder the state keeps ``uidvalidity`` and ``last_uid``; a sync
  fetches only UIDs above ``last_uid``, in batches. When UIDVALIDITY changes the UIDs
  mean nothing any more and the whole folder is fetched again; items are keyed by
  ``FOLDER/Message-ID`` (or ``FOLDER/sha256:...`` of the content), so the upsert finds
  the known ones unchanged: nothing is lost or duplicated.
- An incremental scan does not see every message, so ``result.complete`` is False
  and mail deleted on the server is not marked vanished. Flags in ``meta`` are those
  of the first fetch (flag changes alone do not change an item).
- Timeouts on every socket operation; a dropped or unreachable connection is retried
  with capped exponential backoff, resuming after the last message read.

The password comes from a ``PasswordStore`` (keyring, else memory, else its
provider); it is never logged or put into an error message.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from focusdesk.errors import SourceError
from focusdesk.sources.base import MESSAGE_SHA, IngestFailure, RawItem, ScanResult
from focusdesk.sources.charsets import repair_surrogates
from focusdesk.sources.credentials import PasswordStore
from focusdesk.sources.email_message import message_to_item, parse_message_bytes

if TYPE_CHECKING:
    from imapclient import IMAPClient

__all__ = ["ImapAccount", "ImapIngester", "imap_source", "test_connection"]

log = logging.getLogger(__name__)

IMPLICIT_TLS_PORT = 993
STARTTLS_PORT = 143
DEFAULT_FOLDERS = ("INBOX",)
DEFAULT_TIMEOUT = 30.0

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- the account -------------------------------------------------------------------------
def _check_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise SourceError("An IMAP source needs a server host name (--host).")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split(".")):
        raise SourceError(f"{host!r} is not a valid server host name.")
    return name


def _check_port(port: Any) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise SourceError(f"{port!r} is not a valid port number.") from None
    if not 1 <= value <= 65535:
        raise SourceError(f"{value} is not a valid port number (1-65535).")
    return value


def _check_user(user: Any) -> str:
    if not isinstance(user, str) or not user.strip():
        raise SourceError("An IMAP source needs a user name (--user).")
    if _CONTROL.search(user):
        raise SourceError("The IMAP user name contains control characters.")
    return user.strip()


def _check_folders(folders: Any) -> tuple[str, ...]:
    if folders is None:
        return DEFAULT_FOLDERS
    if isinstance(folders, str):
        folders = [folders]
    out: list[str] = []
    for folder in folders:
        if (
            not isinstance(folder, str)
            or not folder.strip()
            or _CONTROL.search(folder)
            or repair_surrogates(folder) != folder  # bytes that were not UTF-8 (command line)
        ):
            raise SourceError(f"{folder!r} is not a valid IMAP folder name.")
        name = folder.strip()
        if name.upper() == "INBOX":
            name = "INBOX"
        if name not in out:
            out.append(name)
    return tuple(out) or DEFAULT_FOLDERS


@dataclass(frozen=True)
class ImapAccount:
    """Where and how to connect: server, user, TLS mode, folders and trusted CA file."""

    host: str
    user: str
    port: int = IMPLICIT_TLS_PORT
    starttls: bool = False
    folders: tuple[str, ...] = DEFAULT_FOLDERS
    cafile: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ImapAccount:
        """Validate a source's config dict; raises SourceError with a clear message."""
        starttls = bool(config.get("starttls", False))
        port = config.get("port")
        cafile = config.get("cafile") or None
        timeout = config.get("timeout", DEFAULT_TIMEOUT)
        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            raise SourceError(f"{timeout!r} is not a valid timeout in seconds.") from None
        if not timeout > 0:
            raise SourceError("The IMAP timeout must be more than 0 seconds.")
        return cls(
            host=_check_host(str(config.get("host") or "")),
            user=_check_user(config.get("user")),
            port=_check_port(port if port else (STARTTLS_PORT if starttls else IMPLICIT_TLS_PORT)),
            starttls=starttls,
            folders=_check_folders(config.get("folders")),
            cafile=str(cafile) if cafile else None,
            timeout=timeout,
        )

    @classmethod
    def from_uri(cls, uri: str) -> dict[str, Any]:
        """The host, user, port and TLS mode of an ``imaps://`` / ``imap://`` source URI."""
        parts = urlsplit(uri.strip())
        if parts.scheme not in ("imaps", "imap"):
            raise SourceError(
                f"{uri!r} is not an IMAP address.",
                hint="Use imaps://USER@HOST:993/ (TLS) or imap://USER@HOST:143/ (STARTTLS).",
            )
        if parts.password is not None:
            raise SourceError(
                "An IMAP address must not contain a password.",
                hint="FocusDesk asks for the password and keeps it in the system keyring.",
            )
        starttls = parts.scheme == "imap"
        try:
            port = parts.port
        except ValueError:
            raise SourceError(f"{uri!r} has an invalid port number.") from None
        return {
            "host": parts.hostname or "",
            "user": unquote(parts.username or ""),
            "port": port or (STARTTLS_PORT if starttls else IMPLICIT_TLS_PORT),
            "starttls": starttls,
        }

    @property
    def uri(self) -> str:
        """``imaps://USER@HOST:PORT/`` (implicit TLS) or ``imap://...`` (STARTTLS required)."""
        scheme = "imap" if self.starttls else "imaps"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{quote(self.user, safe='')}@{host}:{self.port}/"

    @property
    def name(self) -> str:
        """The default source name: ``user@host``."""
        return f"{self.user}@{self.host}"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def config(self) -> dict[str, Any]:
        """The dict kept as the source's config (never holds a password)."""
        out: dict[str, Any] = {
            "host": self.host,
            "user": self.user,
            "port": self.port,
            "starttls": self.starttls,
            "folders": list(self.folders),
        }
        if self.cafile:
            out["cafile"] = self.cafile
        if self.timeout != DEFAULT_TIMEOUT:
            out["timeout"] = self.timeout
        return out


def imap_source(
    host: str,
    user: str,
    port: int | None = None,
    *,
    starttls: bool = False,
    folders: Sequence[str] | None = None,
    cafile: str | Path | None = None,
) -> tuple[str, dict[str, Any]]:
    """The (uri, config) of a new IMAP source, validated; for the CLI and the UI."""
    if cafile is not None:
        path = Path(cafile).expanduser().resolve()
        if not path.is_file():
            raise SourceError(f"The certificate file {path} does not exist or is not a file.")
        cafile = str(path)
    account = ImapAccount.from_config(
        {
            "host": host,
            "user": user,
            "port": port,
            "starttls": starttls,
            "folders": list(folders) if folders else None,
            "cafile": cafile,
        }
    )
    _ssl_context(account)  # a cafile that is not a certificate is refused now
    return account.uri, account.config()


def check_imap_uri(uri: str) -> tuple[str, str]:
    """Validate an IMAP source URI; returns (normalised uri, default name)."""
    account = ImapAccount.from_config(ImapAccount.from_uri(uri))
    return account.uri, account.name


def account_from_source(uri: str, config: Mapping[str, Any] | None) -> ImapAccount:
    """The account of a stored source: the URI names the account, the config adds options."""
    merged = dict(config or {})
    if uri:
        merged.update(ImapAccount.from_uri(uri))
    return ImapAccount.from_config(merged)


# -- TLS and errors ----------------------------------------------------------------------
def _ssl_context(account: ImapAccount) -> ssl.SSLContext:
    """A verifying context: system CAs, or only ``cafile`` when one is configured."""
    if not account.cafile:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=account.cafile)
    except FileNotFoundError:
        raise SourceError(f"The certificate file {account.cafile} does not exist.") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise SourceError(
            f"The certificate file {account.cafile} could not be used: "
            f"{getattr(exc, 'reason', None) or exc}.",
            hint="It must hold the server's (or its CA's) certificate in PEM format.",
        ) from None


def _cert_error(account: ImapAccount, exc: ssl.SSLCertVerificationError) -> SourceError:
    detail = exc.verify_message or exc.reason or "verification failed"
    if account.cafile:
        hint = f"The certificate file {account.cafile} does not vouch for this server."
    else:
        hint = (
            "If this server uses a self-signed certificate that you trust, save the "
            "certificate to a file and add the source with --cafile FILE."
        )
    return SourceError(
        f"The server's certificate is not trusted ({detail}) for {account.where}; "
        "FocusDesk did not connect.",
        hint=hint,
    )


def _tls_error(account: ImapAccount, exc: ssl.SSLError) -> SourceError:
    return SourceError(
        f"No encrypted (TLS) connection to {account.where} could be set up ({exc.reason or exc}).",
        hint="Port 993 uses TLS from the start; port 143 needs --starttls.",
    )


class _Transient(Exception):
    """The connection failed in a way that may heal: retry with backoff.

    ``password``: when it broke during login, the password to try next time (the one
    the user just typed, if they were asked).
    """

    def __init__(self, message: str, *, password: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.password = password


def _authenticate(client: IMAPClient, user: str, password: str) -> None:
    """LOGIN, or AUTHENTICATE PLAIN (UTF-8) when the user name or password is not ASCII.

    IMAP's LOGIN command carries ASCII only: imaplib would raise a UnicodeEncodeError
    that quotes the password.
    """
    if user.isascii() and password.isascii():
        client.login(user, password)
    else:
        client.plain_login(user, password)


def _raise_if_dropped(exc: BaseException, account: ImapAccount, password: str = "") -> None:
    """imapclient reports a connection dropped during login as a LoginError: retry it."""
    if isinstance(exc.__context__, (OSError, imaplib.IMAP4.abort)):
        raise _Transient(
            f"The connection to {account.where} broke during login "
            f"({_reason(exc.__context__, account.timeout)})",
            password=password or None,
        ) from None


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _login_failed(account: ImapAccount, server_text: str) -> SourceError:
    if "UNAVAILABLE" in server_text.upper() or "TEMPORARY" in server_text.upper():
        return SourceError(
            f"IMAP login for {account.user}@{account.host} failed: the server could not "
            f"check the password right now ({server_text[:200]}).",
            hint="Try again later.",
        )
    return SourceError(
        f"IMAP login failed for {account.user}@{account.host}: wrong user name or password.",
        hint="Save the right password with `focusdesk sources password ID`.",
    )


def _flag_text(flag: Any) -> str:
    return flag.decode("utf-8", "replace") if isinstance(flag, bytes) else str(flag)


def _server_text(exc: BaseException) -> str:
    text = str(exc)
    match = re.fullmatch(r"b'(.*)'", text) or re.fullmatch(r'b"(.*)"', text)
    return match.group(1) if match else text


# -- the ingester ------------------------------------------------------------------------
@dataclass
class _FolderProgress:
    uidvalidity: int
    last_uid: int
    done: bool = False


@dataclass
class ImapStats:
    """What the last scan did on the wire (for tests and benchmarks)."""

    connections: int = 0
    fetched: int = 0
    """Message bodies fetched."""
    fetch_commands: int = 0
    retries: int = 0
    fetched_uids: dict[str, list[int]] = field(default_factory=dict)


class ImapIngester:
    """Reads the configured folders of one IMAP account, incrementally by UID."""

    kind = "imap"
    batch_size = 200
    """Messages per FETCH command (fewer when they are large, see ``batch_bytes``)."""
    batch_bytes = 16 * 1024 * 1024
    attempts = 3
    """Connection attempts in a row without progress before the sync gives up."""
    backoff_base = 1.0
    backoff_max = 30.0

    def __init__(
        self,
        config: Mapping[str, Any] | ImapAccount,
        passwords: PasswordStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = (
            config if isinstance(config, ImapAccount) else ImapAccount.from_config(config)
        )
        self.passwords = passwords
        self._sleep = sleep
        self._result = ScanResult(complete=False)
        self.stats = ImapStats()

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        return self._result

    # -- scanning ------------------------------------------------------------------------
    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield every message above each folder's last UID (or a failure)."""
        self._result = ScanResult(state=dict(state), complete=False)
        self.stats = ImapStats()
        known = state.get("folders") if isinstance(state.get("folders"), dict) else {}
        progress: dict[str, _FolderProgress] = {}
        for folder in self.account.folders:
            prior = known.get(folder) if isinstance(known, dict) else None
            if isinstance(prior, dict):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    progress[folder] = _FolderProgress(
                        int(prior["uidvalidity"]), int(prior["last_uid"])
                    )
        ssl_context = _ssl_context(self.account)
        password = self.passwords.require(self.account.user, self.account.host, self.account.port)
        failures_in_a_row = 0
        while True:
            client: IMAPClient | None = None
            read_before = self.stats.fetched
            try:
                client = self._connect(ssl_context)
                password = self._login(client, password)
                for folder in self.account.folders:
                    if folder in progress and progress[folder].done:
                        continue
                    yield from self._scan_folder(client, folder, progress)
                self._logout(client)
                client = None
                break
            except _Transient as exc:
                password = exc.password or password
                if self.stats.fetched > read_before:
                    failures_in_a_row = 0
                failures_in_a_row += 1
                if failures_in_a_row >= self.attempts:
                    error = SourceError(
                        exc.message,
                        hint="Check the host name and port and your network connection; "
                        "the next sync goes on from where this one stopped.",
                    )
                    # What was read is stored (the store flushes on a failure): the next
                    # sync starts after it rather than from the beginning.
                    error.sync_state = self._state(progress)
                    raise error from None
                delay = min(self.backoff_max, self.backoff_base * 2 ** (failures_in_a_row - 1))
                self.stats.retries += 1
                log.info("%s; retrying in %.1f s", exc.message, delay)
                self._sleep(delay)
            finally:
                if client is not None:
                    self._close(client)
        self._result = ScanResult(state=self._state(progress), complete=False)

    def _state(self, progress: dict[str, _FolderProgress]) -> dict[str, Any]:
        return {
            "folders": {
                f: {"uidvalidity": p.uidvalidity, "last_uid": p.last_uid}
                for f, p in progress.items()
                if f in self.account.folders
            }
        }

    def _connect(self, ssl_context: ssl.SSLContext) -> IMAPClient:
        """An encrypted, not yet authenticated connection."""
        from imapclient import IMAPClient, SocketTimeout

        account = self.account
        self.stats.connections += 1
        timeout = SocketTimeout(connect=account.timeout, read=account.timeout)
        try:
            client = IMAPClient(
                account.host,
                port=account.port,
                ssl=not account.starttls,
                ssl_context=ssl_context,
                timeout=timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            raise _cert_error(account, exc) from None
        except ssl.SSLError as exc:
            raise _tls_error(account, exc) from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise _Transient(
                f"Cannot reach {account.where} ({_reason(exc, account.timeout)})"
            ) from None
        if not account.starttls:
            return client
        try:
            if not client.has_capability("STARTTLS"):
                raise SourceError(
                    f"The server {account.where} does not offer STARTTLS, so the connection "
                    "cannot be encrypted; FocusDesk never sends a password unencrypted.",
                    hint="Use the server's TLS port (usually 993) without --starttls.",
                )
            client.starttls(ssl_context)
        except ssl.SSLCertVerificationError as exc:
            self._close(client)
            raise _cert_error(account, exc) from None
        except ssl.SSLError as exc:
            self._close(client)
            raise _tls_error(account, exc) from None
        except (OSError, imaplib.IMAP4.abort) as exc:
            self._close(client)
            raise _Transient(
                f"Cannot reach {account.where} ({_reason(exc, account.timeout)})"
            ) from None
        except imaplib.IMAP4.error as exc:
            self._close(client)
            raise SourceError(
                f"STARTTLS failed on {account.where} ({_server_text(exc)[:200]}); "
                "FocusDesk never sends a password unencrypted."
            ) from None
        except BaseException:
            self._close(client)
            raise
        return client

    def _login(self, client: IMAPClient, password: str) -> str:
        """Log in; when the password is refused, ask the provider once. Returns the one used."""
        from imapclient.exceptions import LoginError

        account = self.account
        key = (account.user, account.host, account.port)
        try:
            try:
                _authenticate(client, account.user, password)
            except LoginError as exc:
                _raise_if_dropped(exc, account)
                server_text = _server_text(exc)
                self.passwords.rejected(*key)
                retry = self.passwords.ask(*key, retry=True)
                if not retry:
                    raise _login_failed(account, server_text) from None
                password = retry
                try:
                    _authenticate(client, account.user, password)
                except LoginError as again:
                    _raise_if_dropped(again, account, password)
                    self.passwords.rejected(*key)
                    raise _login_failed(account, _server_text(again)) from None
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise _Transient(
                f"The connection to {account.where} broke during login "
                f"({_reason(exc, account.timeout)})",
                password=password,
            ) from None
        self.passwords.accepted(*key)
        log.debug("Logged in to %s as %s", account.where, account.user)
        return password

    def _scan_folder(
        self, client: IMAPClient, folder: str, progress: dict[str, _FolderProgress]
    ) -> Iterator[RawItem | IngestFailure]:
        account = self.account
        try:
            info = client.select_folder(folder, readonly=True)
        except imaplib.IMAP4.abort as exc:
            raise _Transient(f"The connection to {account.where} broke ({exc})") from None
        except OSError as exc:
            raise _Transient(
                f"The connection to {account.where} broke ({_reason(exc, account.timeout)})"
            ) from None
        except imaplib.IMAP4.error as exc:
            yield IngestFailure(
                ref=f"{account.name}/{folder}",
                reason=f"the folder could not be opened ({_server_text(exc)[:200]})",
            )
            return
        uidvalidity = int(info.get(b"UIDVALIDITY") or 0)
        prior = progress.get(folder)
        if prior is not None and prior.uidvalidity == uidvalidity and uidvalidity:
            last_uid = prior.last_uid
        else:
            if prior is not None:
                log.info(
                    "UIDVALIDITY of %s/%s changed (%s -> %s): reading the whole folder again",
                    account.name,
                    folder,
                    prior.uidvalidity,
                    uidvalidity,
                )
            last_uid = 0
        current = progress[folder] = _FolderProgress(uidvalidity, last_uid)
        uidnext = info.get(b"UIDNEXT")
        if int(info.get(b"EXISTS") or 0) == 0 or (
            isinstance(uidnext, int) and uidnext <= last_uid + 1
        ):
            current.done = True
            return
        try:
            found = client.search(["UID", f"{last_uid + 1}:*"])
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise _Transient(
                f"The connection to {account.where} broke ({_reason(exc, account.timeout)})"
            ) from None
        except imaplib.IMAP4.error as exc:  # NO/BAD: this folder waits for the next sync
            yield IngestFailure(
                ref=f"{account.name}/{folder}",
                reason=f"the server would not list new messages ({_server_text(exc)[:200]})",
            )
            return
        uids = sorted(int(u) for u in found if int(u) > last_uid)
        log.info("%s/%s: %d new messages", account.name, folder, len(uids))
        for start in range(0, len(uids), self.batch_size):
            for batch in self._plan(client, uids[start : start + self.batch_size]):
                yield from self._fetch_batch(client, folder, batch, current)
        current.done = True

    def _plan(self, client: IMAPClient, uids: list[int]) -> Iterator[list[int]]:
        """Split ``uids`` into FETCH batches of at most ``batch_bytes`` (one message minimum)."""
        try:
            sizes = client.fetch(uids, ["RFC822.SIZE"])
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise _Transient(
                f"The connection to {self.account.where} broke "
                f"({_reason(exc, self.account.timeout)})"
            ) from None
        except imaplib.IMAP4.error as exc:  # NO/BAD: sizes unknown, batches by count only
            log.info("%s: no message sizes (%s)", self.account.name, _server_text(exc)[:200])
            sizes = {}
        batch: list[int] = []
        total = 0
        for uid in uids:
            size = int((sizes.get(uid) or {}).get(b"RFC822.SIZE") or 0)
            if batch and total + size > self.batch_bytes:
                yield batch
                batch, total = [], 0
            batch.append(uid)
            total += size
        if batch:
            yield batch

    def _fetch_batch(
        self, client: IMAPClient, folder: str, uids: list[int], current: _FolderProgress
    ) -> Iterator[RawItem | IngestFailure]:
        """Fetch one batch of messages (BODY.PEEK: flags untouched) and yield them in UID order."""
        try:
            data = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise _Transient(
                f"The connection to {self.account.where} broke "
                f"({_reason(exc, self.account.timeout)})"
            ) from None
        except imaplib.IMAP4.error as exc:
            # The server refused the batch (NO/BAD, e.g. a message it cannot read): one
            # message at a time, so one bad message costs only itself.
            if len(uids) > 1:
                for uid in uids:
                    yield from self._fetch_batch(client, folder, [uid], current)
                return
            self.stats.fetch_commands += 1
            yield IngestFailure(
                ref=f"{self.account.name}/{folder} UID {uids[0]}",
                reason=f"the server would not send it ({_server_text(exc)[:200]})",
            )
            current.last_uid = uids[0]
            return
        self.stats.fetch_commands += 1
        self.stats.fetched += len(data)
        self.stats.fetched_uids.setdefault(folder, []).extend(sorted(data))
        for uid in uids:
            entry = data.get(uid)
            if entry is not None:  # else expunged since the search
                yield self._to_item(folder, uid, current.uidvalidity, entry)
            current.last_uid = uid

    def _to_item(
        self, folder: str, uid: int, uidvalidity: int, entry: Mapping[bytes, Any]
    ) -> RawItem | IngestFailure:
        ref = f"{self.account.name}/{folder} UID {uid}"
        raw = entry.get(b"BODY[]")
        if not isinstance(raw, bytes | bytearray):
            return IngestFailure(ref=ref, reason="the server sent no message body")
        raw = bytes(raw)
        digest = sha256(raw).hexdigest()
        try:
            item = message_to_item(parse_message_bytes(raw), fallback_id="sha256:" + digest)
        except ValueError as exc:
            log.warning("Skipped %s: %s", ref, exc)
            return IngestFailure(ref=ref, reason=str(exc))
        item.external_id = f"{folder}/{item.external_id}"
        item.meta.update(
            {
                "folder": folder,
                "uid": uid,
                "uidvalidity": uidvalidity,
                "flags": [_flag_text(f) for f in entry.get(b"FLAGS") or ()],
                MESSAGE_SHA: digest[:32],
            }
        )
        return item

    def check_login(self, password: str) -> None:
        """Connect (TLS verified) and log in once, without retries; raises SourceError."""
        client: IMAPClient | None = None
        try:
            client = self._connect(_ssl_context(self.account))
            self._login(client, password)
        except _Transient as exc:
            raise SourceError(exc.message) from None
        finally:
            if client is not None:
                self._logout(client)

    # -- closing -------------------------------------------------------------------------
    def _logout(self, client: IMAPClient) -> None:
        try:
            client.logout()
        except Exception:  # the data is read; a failed goodbye does not matter
            self._close(client)

    @staticmethod
    def _close(client: IMAPClient) -> None:
        with contextlib.suppress(Exception):
            client.shutdown()


def test_connection(uri: str, config: Mapping[str, Any] | None, password: str) -> str:
    """Check an account before it is added: connect, verify TLS, log in, log out.

    Returns a one-line description of what worked; raises SourceError (certificate,
    STARTTLS, unreachable, wrong password) with the same messages a sync gives. The
    password is only used for this login (nothing is stored). Blocks: run it off the
    UI thread.
    """
    if not password:
        raise SourceError("Type the password to test the connection.")
    account = account_from_source(uri, config)
    passwords = PasswordStore(use_keyring=False)
    passwords.set(account.user, account.host, account.port, password)
    ImapIngester(account, passwords).check_login(password)
    how = "STARTTLS" if account.starttls else "TLS"
    return f"Connected to {account.where} with {how} and logged in as {account.user}."
