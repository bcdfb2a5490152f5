"""Our own safe HTTP(S) fetcher: what the feed source uses to get bytes off the network.

Only ``http`` and ``https`` (certificates verified); connect, read and total-time
limits; at most ``max_redirects`` redirects, each target checked again; the size of
the *decompressed* body capped while it is decompressed; conditional GET with the
validators sent back exactly as received; 429 and 5xx reported as ``RetryLater`` with
the server's Retry-After. A redirect from a public address to a private, loopback or
link-local one is refused (the host is resolved by an injectable resolver, and the
connection goes to the address that was checked, so a second lookup cannot change it).
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from focusdesk import __version__
from focusdesk.clock import SystemClock
from focusdesk.errors import SourceError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BlockedAddressError",
    "Connector",
    "DeadlineError",
    "FetchError",
    "FetchLimits",
    "FetchResult",
    "Fetcher",
    "RedirectError",
    "Resolver",
    "RetryLater",
    "TooLargeError",
    "decompress_capped",
    "is_public_address",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = f"FocusDesk/{__version__} (feed reader; +local)"
FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CHUNK = 64 * 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the IP addresses to connect to, as strings."""
Connector = Callable[[str, int, float], socket.socket]
"""(ip, port, connect timeout) -> a connected socket."""


# --- errors -------------------------------------------------------------------------


class FetchError(SourceError):
    """A URL could not be fetched; the message says why, for the user."""


class RetryLater(FetchError):
    """The server is busy or failing (429, 5xx): try again later, never give up for good."""

    def __init__(
        self, message: str, *, status: int, retry_after: float | None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.retry_after = retry_after
        """Seconds the server asked us to wait (Retry-After), or None when it did not say."""


class TooLargeError(FetchError):
    """The body (after decompression) is larger than the cap."""


class DeadlineError(FetchError):
    """The whole fetch took longer than its total deadline."""


class RedirectError(FetchError):
    """Too many redirects, a redirect loop, or a redirect to a refused URL."""


class BlockedAddressError(RedirectError):
    """A redirect from a public address to a private, loopback or link-local one."""


# --- results and limits -------------------------------------------------------------


@dataclass(frozen=True)
class FetchLimits:
    """How long and how much one fetch may take."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    """Longest wait for any single read."""
    deadline: float = 60.0
    """Longest time for the whole fetch, redirects included (stops an endless slow body)."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Cap on the decompressed body."""
    max_redirects: int = 5


@dataclass
class FetchResult:
    """What a fetch brought back."""

    status: int
    url: str
    """The final URL, after redirects."""
    headers: dict[str, str]
    """Response headers with lower-case names (repeated ones joined by ', ')."""
    body: bytes = b""
    """The decoded (decompressed) body; empty when ``not_modified``."""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)
    """Every URL that redirected, in order."""
    permanent_url: str | None = None
    """Where the resource now lives when every redirect was permanent (301/308)."""
    public: bool = False
    """Whether it (or a hop on the way) was on a public address."""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ('' when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


# --- addresses ----------------------------------------------------------------------


def is_public_address(ip: str) -> bool:
    """True for a globally routable unicast address; False for private, loopback,
    link-local, CGNAT, multicast, reserved and unspecified ones (IPv4-mapped too)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped or addr.sixtofour
        if mapped is not None:
            addr = mapped
        elif addr.teredo is not None:
            addr = addr.teredo[1]
        elif addr in _NAT64:  # 64:ff9b::/96 embeds an IPv4 address in its last 32 bits
            addr = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return bool(addr.is_global) and not addr.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; addresses in the order to try."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The host {host} could not be found ({exc}).") from None
    out: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in out:
            out.append(ip)
    return out


def system_connector(ip: str, port: int, timeout: float) -> socket.socket:
    """Open a TCP connection to ``ip``:``port``."""
    return socket.create_connection((ip, port), timeout=timeout)


# --- decompression ------------------------------------------------------------------


_MAX_REPLAY = 64 * 1024


class _Decoder:
    """Streams a Content-Encoding away while counting the output against a cap."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.parts: list[bytes] = []
        self.size = 0
        enc = encoding.strip().lower()
        self.kind = "identity" if enc in ("", "identity") else enc
        if self.kind in ("gzip", "x-gzip"):
            self.kind = "gzip"
        elif self.kind not in ("identity", "deflate"):
            raise FetchError(f"{url} sent its body in an unsupported encoding ({encoding}).")
        self._d: zlib._Decompress | None = None
        self._head = b""  # deflate: bytes held until the format can be told
        self._replay: bytes | None = None  # deflate input read as zlib before any output

    def _too_large(self) -> TooLargeError:
        return TooLargeError(
            f"{self.url} is larger than the {_mb(self.limit)} limit once decompressed; "
            "it was not read further.",
            hint="Raise the feed's max_bytes setting if this feed really is that large.",
        )

    def _append(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.limit:
            raise self._too_large()
        self.parts.append(data)

    def feed(self, data: bytes) -> None:
        """Decode one chunk of the body, whatever its size (a first read of one byte too)."""
        if self.kind == "identity":
            self._append(data)
            return
        if self._d is None:
            if self.kind == "deflate":
                # The first two bytes tell a zlib header from raw deflate: wait for them.
                self._head += data
                if len(self._head) < 2:
                    return
                data, self._head = self._head, b""
            self._d = self._new(data)
        if self._replay is not None:
            self._replay = self._replay + data if len(self._replay) < _MAX_REPLAY else None
        self._decompress(data)

    def _decompress(self, data: bytes) -> None:
        assert self._d is not None
        while data:
            try:
                out = self._d.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                replay, self._replay = self._replay, None
                if replay is not None:
                    # Raw deflate that happened to start like a zlib header: read it as raw.
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._decompress(replay)
                    return
                raise FetchError(f"{self.url} sent a corrupt compressed body ({exc}).") from None
            if out:
                self._replay = None  # the format is confirmed
            self._append(out)
            data = self._d.unconsumed_tail
            if self._d.eof:
                rest = self._d.unused_data
                if self.kind == "gzip" and rest.startswith(b"\x1f\x8b"):
                    self._d = self._new(rest)  # a multi-member gzip stream
                    data = rest
                else:
                    return

    def _new(self, first: bytes) -> zlib._Decompress:
        if self.kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" is zlib-wrapped by the RFC, raw deflate by many servers.
        if len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0:
            self._replay = b""  # kept until output confirms the guess
            return zlib.decompressobj(zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS)

    def finish(self) -> bytes:
        """The whole decoded body."""
        if self._head:  # a deflate body of a single byte
            self._d, data, self._head = self._new(self._head), self._head, b""
            self._decompress(data)
        if self._d is not None:
            try:
                self._append(self._d.flush(self.limit - self.size + 1))
            except zlib.error as exc:
                raise FetchError(f"{self.url} sent a corrupt compressed body ({exc}).") from None
        return b"".join(self.parts)


def decompress_capped(data: bytes, limit: int, what: str = "The file") -> bytes:
    """Gunzip ``data`` if it is gzip (by its magic bytes), never producing over ``limit``."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = _Decoder("gzip", limit, what)
    decoder.feed(data)
    return decoder.finish()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


# --- Retry-After ----------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- connections ----------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, not a fresh lookup."""

    def __init__(
        self, host: str, port: int, *, ip: str, connector: Connector, limits: FetchLimits
    ) -> None:
        super().__init__(host, port, timeout=limits.read_timeout)
        self._ip = ip
        self._connector = connector
        self._limits = limits

    def connect(self) -> None:
        sock = self._connector(self._ip, self.port, self._limits.connect_timeout)
        sock.settimeout(self._limits.read_timeout)
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """As ``_PinnedHTTPConnection``, with TLS verified against the host name."""

    default_port = 443

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ip: str,
        connector: Connector,
        limits: FetchLimits,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, ip=ip, connector=connector, limits=limits)
        self._context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _split_target(url: str) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"{url!r} is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            f"{url!r} is not an http or https URL; FocusDesk fetches nothing else.",
        )
    host = parts.hostname
    if not host:
        raise FetchError(f"{url!r} names no host.")
    if parts.username or parts.password:
        raise FetchError(f"{url!r} carries a user name or password; that is not supported.")
    netloc = parts.netloc
    if not host.isascii():  # an internationalised name goes on the wire as IDNA
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchError(f"{url!r} names a host that is not a valid domain name.") from None
        netloc = ascii_host + (f":{port}" if port is not None else "")
        host = ascii_host
    # Spaces and non-ASCII characters percent-encoded (UTF-8); existing escapes kept.
    raw_path = quote(parts.path or "/", safe=_PATH_SAFE)
    raw_query = quote(parts.query, safe=_QUERY_SAFE)
    path = raw_path + ("?" + raw_query if raw_query else "")
    clean = urlunsplit((scheme, netloc, raw_path, raw_query, ""))
    return _Target(clean, scheme, host, port or (443 if scheme == "https" else 80), path)


class _Watchdog:
    """Shuts a socket down when the total deadline passes, so no read can outlive it."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._ends = time.monotonic() + seconds
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        """Watch ``sock`` (the current connection) from now on."""
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self._ends - time.monotonic()

    def cancel(self) -> None:
        """Stop the timer: the fetch is over."""
        self._timer.cancel()


# --- the fetcher ----------------------------------------------------------------------


class Fetcher:
    """Fetches one URL at a time under ``limits``; resolver and connector are injectable."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        resolver: Resolver | None = None,
        connector: Connector | None = None,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.resolver: Resolver = resolver or system_resolver
        self.connector: Connector = connector or system_connector
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.user_agent = user_agent
        self.now = now or SystemClock().now
        """The clock that dates a server's "retry after" (the profile's, when given)."""

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
        referrer: FetchResult | None = None,
    ) -> FetchResult:
        """GET ``url``: a 2xx body, or ``not_modified`` on 304; raises ``FetchError``.

        ``referrer``: the fetched page that named ``url`` (feed autodiscovery). A page on
        a public address may not send FocusDesk to a private one, as a redirect may not.
        """
        watchdog = _Watchdog(self.limits.deadline)
        try:
            return self._get(url, etag, last_modified, accept, watchdog, referrer)
        finally:
            watchdog.cancel()

    def _get(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        accept: str,
        watchdog: _Watchdog,
        referrer: FetchResult | None,
    ) -> FetchResult:
        limits = self.limits
        target = _split_target(url)
        visited: list[str] = []
        public_seen = referrer is not None and referrer.public
        referrer_url = referrer.url if referrer is not None else ""
        permanent: str | None = target.url
        while True:
            if target.url in visited:
                chain = " → ".join([*visited, target.url])
                raise RedirectError(f"{visited[0]} redirects in a loop ({chain}).")
            addresses = list(self.resolver(target.host, target.port))
            if not addresses:
                raise FetchError(f"The host {target.host} could not be found.")
            public = all(is_public_address(ip) for ip in addresses)
            if public_seen and not public:
                how = f"{visited[0]} redirected to" if visited else f"{referrer_url} links to"
                raise BlockedAddressError(
                    f"{how} {target.url}, which is on a private or local network address; "
                    "FocusDesk refused to follow it.",
                )
            public_seen = public_seen or public
            visited.append(target.url)
            if watchdog.remaining() <= 0:
                raise self._deadline(visited[0])
            for n, ip in enumerate(addresses):  # each in turn: a broken IPv6 route is no end
                try:
                    response, conn = self._request(
                        target, ip, etag, last_modified, accept, watchdog, visited[0]
                    )
                    break
                except FetchError:
                    if n == len(addresses) - 1 or watchdog.fired:
                        raise
                    log.info("%s did not answer on %s; trying its next address", target.host, ip)
            try:
                status = response.status
                headers = _headers(response)
                if status in _REDIRECTS:
                    location = headers.get("location")
                    if not location:
                        raise RedirectError(
                            f"{target.url} answered with a redirect ({status}) but no location."
                        )
                    if len(visited) > limits.max_redirects:
                        raise RedirectError(
                            f"{visited[0]} redirected more than {limits.max_redirects} times; "
                            "FocusDesk stopped following it."
                        )
                    new_url = urljoin(target.url, location.strip())
                    try:
                        nxt = _split_target(new_url)
                    except FetchError as exc:
                        raise RedirectError(
                            f"{target.url} redirected to {new_url!r}, which FocusDesk refuses: "
                            f"{exc.message}"
                        ) from None
                    if target.scheme == "https" and nxt.scheme == "http":
                        raise RedirectError(
                            f"{target.url} redirected from https to plain http ({nxt.url}); "
                            "FocusDesk refused to follow it."
                        )
                    permanent = nxt.url if permanent and status in _PERMANENT else None
                    log.debug("%s redirected (%s) to %s", target.url, status, nxt.url)
                    target = nxt
                    continue
                result = self._finish(
                    target, status, headers, response, conn.sock, visited, permanent, watchdog
                )
                result.public = public_seen
                return result
            finally:
                conn.close()

    def _request(
        self,
        target: _Target,
        ip: str,
        etag: str | None,
        last_modified: str | None,
        accept: str,
        watchdog: _Watchdog,
        first_url: str,
    ) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        conn: _PinnedHTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPSConnection(
                target.host,
                target.port,
                ip=ip,
                connector=self.connector,
                limits=self.limits,
                context=self.ssl_context,
            )
        else:
            conn = _PinnedHTTPConnection(
                target.host, target.port, ip=ip, connector=self.connector, limits=self.limits
            )
        try:
            conn.putrequest("GET", target.path, skip_accept_encoding=True)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Accept", accept)
            conn.putheader("Accept-Encoding", "gzip, deflate")
            for name, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified)):
                if value:
                    try:
                        conn.putheader(name, value)
                    except ValueError:
                        log.warning("Dropped an unusable %s value %r", name, value)
            conn.endheaders()  # connects
            watchdog.watch(conn.sock)
            return conn.getresponse(), conn
        except Exception as exc:
            conn.close()
            if watchdog.fired:
                raise self._deadline(first_url) from None
            raise self._network_error(target, exc) from None

    def _finish(
        self,
        target: _Target,
        status: int,
        headers: dict[str, str],
        response: http.client.HTTPResponse,
        sock: socket.socket | None,
        visited: list[str],
        permanent: str | None,
        watchdog: _Watchdog,
    ) -> FetchResult:
        first = visited[0]
        redirects = visited[:-1]
        perm = permanent if permanent and permanent != first else None
        if status == 304:
            return FetchResult(
                status,
                target.url,
                headers,
                b"",
                headers.get("etag"),
                headers.get("last-modified"),
                not_modified=True,
                redirects=redirects,
                permanent_url=perm,
            )
        if status == 429 or 500 <= status <= 599:
            wait = parse_retry_after(headers.get("retry-after"), self.now())
            what = "is rate-limiting FocusDesk" if status == 429 else "is failing"
            asked = f"; it asked to wait {wait:g} s" if wait is not None else ""
            raise RetryLater(
                f"{target.host} {what} (HTTP {status} {response.reason}){asked}.",
                status=status,
                retry_after=wait,
            )
        if not 200 <= status <= 299:
            raise FetchError(_status_message(target.url, status, response.reason))
        body = self._read_body(target, headers, response, sock, watchdog, first)
        return FetchResult(
            status,
            target.url,
            headers,
            body,
            headers.get("etag"),
            headers.get("last-modified"),
            redirects=redirects,
            permanent_url=perm,
        )

    def _read_body(
        self,
        target: _Target,
        headers: dict[str, str],
        response: http.client.HTTPResponse,
        sock: socket.socket | None,
        watchdog: _Watchdog,
        first_url: str,
    ) -> bytes:
        limits = self.limits
        decoder = _Decoder(headers.get("content-encoding", ""), limits.max_bytes, target.url)
        declared = headers.get("content-length", "")
        if decoder.kind == "identity" and declared.isdigit() and int(declared) > limits.max_bytes:
            raise decoder._too_large()
        raw = 0
        try:
            while True:
                remaining = watchdog.remaining()
                if remaining <= 0 or watchdog.fired:
                    raise self._deadline(first_url)
                if isinstance(sock, socket.socket):
                    sock.settimeout(max(0.01, min(limits.read_timeout, remaining)))
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                raw += len(chunk)
                if raw > limits.max_bytes:
                    raise decoder._too_large()
                decoder.feed(chunk)
            if watchdog.fired:
                raise self._deadline(first_url)
            if response.length:
                raise FetchError(
                    f"{target.host} closed the connection before the whole body arrived "
                    f"({response.length} bytes missing)."
                )
            return decoder.finish()
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if watchdog.fired:
                raise self._deadline(first_url) from None
            raise self._network_error(target, exc) from None

    def _deadline(self, url: str) -> DeadlineError:
        return DeadlineError(
            f"Fetching {url} took longer than {self.limits.deadline:g} s; it was stopped.",
            hint="The server may be very slow; FocusDesk tries again at the next sync.",
        )

    def _network_error(self, target: _Target, exc: BaseException) -> FetchError:
        if isinstance(exc, FetchError):
            return exc
        host = target.host
        if isinstance(exc, ssl.SSLCertVerificationError):
            return FetchError(
                f"The certificate of {host} could not be verified ({exc.verify_message}); "
                "FocusDesk did not connect."
            )
        if isinstance(exc, ssl.SSLError):
            return FetchError(f"A secure connection to {host} failed ({exc.reason or exc}).")
        if isinstance(exc, TimeoutError | socket.timeout):
            return FetchError(
                f"{host} did not answer in time (after {self.limits.read_timeout:g} s).",
                hint="FocusDesk tries again at the next sync.",
            )
        if isinstance(exc, ConnectionRefusedError):
            return FetchError(f"{host} refused the connection (port {target.port}).")
        if isinstance(exc, http.client.HTTPException | ValueError):
            return FetchError(f"{host} sent a malformed HTTP response ({type(exc).__name__}).")
        if isinstance(exc, OSError):
            return FetchError(f"{target.url} could not be fetched: {exc.strerror or exc}.")
        return FetchError(f"{target.url} could not be fetched: {exc!r}.")


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _status_message(url: str, status: int, reason: str) -> str:
    if status in (401, 403):
        return f"{url} refused access (HTTP {status} {reason})."
    if status == 404:
        return f"{url} was not found (HTTP 404)."
    if status == 410:
        return f"{url} is gone for good (HTTP 410); the publisher removed it."
    return f"{url} answered HTTP {status} {reason}."
