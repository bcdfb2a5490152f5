from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from feed_server import FeedServer, Handler, Reply, running_server, slow_body

from focusdesk.sources.fetch import (
    BlockedAddressError,
    DeadlineError,
    Fetcher,
    FetchError,
    FetchLimits,
    RedirectError,
    RetryLater,
    TooLargeError,
    decompress_capped,
    is_public_address,
    parse_retry_after,
)

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running_server() as srv:
        yield srv


def fast(**kw: float) -> Fetcher:
    limits = {"connect_timeout": 2.0, "read_timeout": 2.0, "deadline": 5.0, **kw}
    return Fetcher(
        FetchLimits(
            connect_timeout=limits["connect_timeout"],
            read_timeout=limits["read_timeout"],
            deadline=limits["deadline"],
            max_bytes=int(kw.get("max_bytes", 20 * 1024 * 1024)),
        )
    )


# --- pure helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("not an ip", False),
    ],
)
def test_is_public_address(ip: str, public: bool) -> None:
    assert is_public_address(ip) is public


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = datetime(2025, 6, 2, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Mon, 02 Jun 2025 12:05:00 GMT", now) == 300
    assert parse_retry_after("Mon, 02 Jun 2025 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None


def test_decompress_capped_stops_a_gzip_bomb_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))
    assert len(bomb) < 20_000
    with pytest.raises(TooLargeError, match="1 MB"):
        decompress_capped(bomb, 1024 * 1024)
    assert decompress_capped(gzip.compress(b"hello"), 100) == b"hello"
    assert decompress_capped(b"plain", 100) == b"plain"


@pytest.mark.parametrize("url", ["ftp://x.example/f", "file:///etc/passwd", "gopher://x", "x"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="http or https"):
        Fetcher().get(url)


def test_credentials_in_url_are_refused() -> None:
    with pytest.raises(FetchError, match="user name or password"):
        Fetcher().get("http://user:pw@127.0.0.1:9/")


# --- against a real loopback server ----------------------------------------------------


def test_plain_fetch_returns_body_headers_and_validators(server: FeedServer) -> None:
    url = server.serve_feed(
        "/f", FEED, etag='W/"abc"', last_modified="Mon, 02 Jun 2025 09:00:00 GMT"
    )
    r = fast().get(url)
    assert (r.status, r.url, r.body, r.not_modified) == (200, url, FEED, False)
    assert r.etag == 'W/"abc"'
    assert r.last_modified == "Mon, 02 Jun 2025 09:00:00 GMT"
    assert r.content_type == "application/xml"
    seen = server.requests[-1].headers
    assert seen["accept-encoding"] == "gzip, deflate"
    assert "application/atom+xml" in seen["accept"]
    assert "if-none-match" not in seen


def test_conditional_get_sends_validators_back_exactly(server: FeedServer) -> None:
    etag, lm = 'W/"a;b=c, d"', "Mon, 02 Jun 2025 09:00:00 GMT"
    url = server.serve_feed("/f", FEED, etag=etag, last_modified=lm)
    r = fast().get(url, etag=etag, last_modified=lm)
    assert r.not_modified
    assert r.status == 304
    assert r.body == b""
    seen = server.requests[-1].headers
    assert seen["if-none-match"] == etag
    assert seen["if-modified-since"] == lm


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw"])
def test_compressed_bodies_are_decoded(server: FeedServer, encoding: str) -> None:
    body = FEED * 50
    if encoding == "gzip":
        data, header = gzip.compress(body), "gzip"
    elif encoding == "deflate-zlib":
        data, header = zlib.compress(body), "deflate"
    else:
        c = zlib.compressobj(wbits=-15)
        data, header = c.compress(body) + c.flush(), "deflate"
    url = server.add("/c", Reply(200, {"Content-Encoding": header}, data))
    assert fast().get(url).body == body


def test_chunked_transfer_encoding(server: FeedServer) -> None:
    def chunked(req: Handler) -> None:
        req.protocol_version = "HTTP/1.1"
        req.send_response(200)
        req.send_header("Transfer-Encoding", "chunked")
        req.send_header("Connection", "close")
        req.end_headers()
        for part in (FEED[:10], FEED[10:]):
            req.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        req.wfile.write(b"0\r\n\r\n")

    url = server.add("/chunked", chunked)
    assert fast().get(url).body == FEED


def test_multi_member_gzip(server: FeedServer) -> None:
    url = server.add(
        "/m", Reply(200, {"Content-Encoding": "gzip"}, gzip.compress(b"ab") + gzip.compress(b"cd"))
    )
    assert fast().get(url).body == b"abcd"


def test_gzip_bomb_over_http_stops_at_the_cap(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))
    url = server.add("/bomb", Reply(200, {"Content-Encoding": "gzip"}, bomb))
    with pytest.raises(TooLargeError, match="larger than the 1 MB limit once decompressed"):
        fast(max_bytes=1024 * 1024).get(url)


def test_declared_length_over_the_cap_is_refused_unread(server: FeedServer) -> None:
    url = server.add("/big", Reply(200, {}, b"x" * 5000))
    with pytest.raises(TooLargeError):
        fast(max_bytes=1000).get(url)


def test_truncated_body_is_an_error(server: FeedServer) -> None:
    url = server.add("/t", Reply(200, {"Content-Length": "1000"}, b"only a little"))
    with pytest.raises(FetchError, match="before the whole body arrived"):
        fast().get(url)


def test_redirects_are_followed_and_reported(server: FeedServer) -> None:
    final = server.serve_feed("/final", FEED)
    server.add("/b", Reply(302, {"Location": "/final"}))
    first = server.add("/a", Reply(301, {"Location": server.url("/b")}))
    r = fast().get(first)
    assert r.url == final
    assert r.redirects == [first, server.url("/b")]
    assert r.permanent_url is None  # 301 then 302: not permanent all the way
    server.add("/p", Reply(308, {"Location": "/final"}))
    assert fast().get(server.url("/p")).permanent_url == final


def test_at_most_five_redirects(server: FeedServer) -> None:
    server.serve_feed("/r5", FEED)
    for i in range(5):
        server.add(f"/r{i}", Reply(302, {"Location": f"/r{i + 1}"}))
    assert fast().get(server.url("/r0")).body == FEED  # exactly five: fine
    server.add("/r5", Reply(302, {"Location": "/r6"}))
    server.serve_feed("/r6", FEED)
    with pytest.raises(RedirectError, match="more than 5 times"):
        fast().get(server.url("/r0"))


def test_redirect_loop_is_stopped(server: FeedServer) -> None:
    server.add("/x", Reply(302, {"Location": "/y"}))
    server.add("/y", Reply(302, {"Location": "/x"}))
    with pytest.raises(RedirectError, match="loop"):
        fast().get(server.url("/x"))
    assert server.hits["/x"] == 1


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://x.example/", "javascript:alert(1)"]
)
def test_redirect_to_another_scheme_is_refused(server: FeedServer, location: str) -> None:
    url = server.add("/r", Reply(302, {"Location": location}))
    with pytest.raises(RedirectError, match="refuses"):
        fast().get(url)


def test_redirect_without_location(server: FeedServer) -> None:
    url = server.add("/r", Reply(302, {}))
    with pytest.raises(RedirectError, match="no location"):
        fast().get(url)


class Routed:
    """Resolver + connector for tests: fake public names, every connection to loopback."""

    def __init__(self, server: FeedServer, names: dict[str, str]) -> None:
        self.server = server
        self.names = names
        self.connected: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        return [self.names.get(host, host)]

    def connect(self, ip: str, port: int, timeout: float) -> socket.socket:
        self.connected.append(ip)
        # Only ever loopback: the "public" addresses are stand-ins for the test server.
        assert ip in set(self.names.values()) | {"127.0.0.1"}
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)


def test_redirect_from_public_to_loopback_is_refused(server: FeedServer) -> None:
    server.serve_feed("/secret", b"internal data")
    server.add("/feed", Reply(302, {"Location": server.url("/secret")}))
    routed = Routed(server, {"feeds.example.com": "93.184.215.14"})
    fetcher = Fetcher(FetchLimits(deadline=5), resolver=routed.resolve, connector=routed.connect)
    with pytest.raises(BlockedAddressError, match="private or local network"):
        fetcher.get(f"http://feeds.example.com:{server.port}/feed")
    assert routed.connected == ["93.184.215.14"]  # never connected to the private target
    assert server.hits["/secret"] == 0


@pytest.mark.parametrize("target", ["10.0.0.5", "169.254.169.254", "[::1]", "localhost"])
def test_redirect_from_public_to_any_private_name_is_refused(
    server: FeedServer, target: str
) -> None:
    server.add("/feed", Reply(302, {"Location": f"http://{target}:{server.port}/x"}))
    routed = Routed(server, {"feeds.example.com": "93.184.215.14", "localhost": "127.0.0.1"})
    fetcher = Fetcher(FetchLimits(deadline=5), resolver=routed.resolve, connector=routed.connect)
    with pytest.raises(BlockedAddressError):
        fetcher.get(f"http://feeds.example.com:{server.port}/feed")
    assert routed.connected == ["93.184.215.14"]


def test_a_public_page_cannot_point_feed_discovery_at_a_private_address(
    server: FeedServer,
) -> None:
    from focusdesk.sources.feeds import probe_feed

    server.serve_feed("/internal.xml", FEED)
    page = (
        f'<html><head><link rel="alternate" type="application/rss+xml" '
        f'href="http://127.0.0.1:{server.port}/internal.xml"></head><body>Blog</body></html>'
    ).encode()
    server.add("/blog", Reply(200, {"Content-Type": "text/html"}, page))
    routed = Routed(server, {"blog.example.com": "93.184.215.14"})
    fetcher = Fetcher(FetchLimits(deadline=5), resolver=routed.resolve, connector=routed.connect)
    with pytest.raises(BlockedAddressError, match="links to"):
        probe_feed(f"http://blog.example.com:{server.port}/blog", fetcher=fetcher)
    assert routed.connected == ["93.184.215.14"]
    assert server.hits["/internal.xml"] == 0


def test_a_loopback_page_may_point_discovery_at_loopback(server: FeedServer) -> None:
    from focusdesk.sources.feeds import probe_feed

    server.serve_feed("/feed.xml", FEED)
    page = (
        f'<html><head><link rel="alternate" type="application/rss+xml" '
        f'href="{server.url("/feed.xml")}"></head><body>Blog</body></html>'
    ).encode()
    url = server.add("/blog", Reply(200, {"Content-Type": "text/html"}, page))
    info = probe_feed(url, fetcher=fast())
    assert info.url == server.url("/feed.xml")


def test_public_to_public_redirect_is_fine(server: FeedServer) -> None:
    server.serve_feed("/new", FEED)
    server.add("/old", Reply(301, {"Location": f"http://cdn.example.net:{server.port}/new"}))
    routed = Routed(server, {"feeds.example.com": "93.184.215.14", "cdn.example.net": "1.1.1.1"})
    fetcher = Fetcher(FetchLimits(deadline=5), resolver=routed.resolve, connector=routed.connect)
    r = fetcher.get(f"http://feeds.example.com:{server.port}/old")
    assert r.body == FEED
    assert routed.connected == ["93.184.215.14", "1.1.1.1"]
    assert server.requests[-1].headers["host"] == f"cdn.example.net:{server.port}"


def test_a_typed_loopback_url_may_redirect_within_loopback(server: FeedServer) -> None:
    server.serve_feed("/b", FEED)
    url = server.add("/a", Reply(302, {"Location": server.url("/b", host="localhost")}))
    assert fast().get(url).body == FEED


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_busy_or_failing_server_is_retry_later(server: FeedServer, status: int) -> None:
    url = server.add("/busy", Reply(status, {"Retry-After": "120"}, b"busy"))
    with pytest.raises(RetryLater) as info:
        fast().get(url)
    assert info.value.status == status
    assert info.value.retry_after == 120
    assert "asked to wait 120 s" in info.value.message


def test_retry_after_as_http_date(server: FeedServer) -> None:
    now = datetime(2025, 6, 2, 12, 0, 0, tzinfo=UTC)
    when = "Mon, 02 Jun 2025 12:10:00 GMT"
    url = server.add("/busy", Reply(429, {"Retry-After": when}))
    fetcher = Fetcher(FetchLimits(deadline=5), now=lambda: now)
    with pytest.raises(RetryLater) as info:
        fetcher.get(url)
    assert info.value.retry_after == 600


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "was not found"), (410, "gone for good"), (403, "refused access"), (418, "HTTP 418")],
)
def test_client_errors_say_what_happened(server: FeedServer, status: int, message: str) -> None:
    url = server.add("/e", Reply(status, {}, b"no"))
    with pytest.raises(FetchError, match=message):
        fast().get(url)


def test_endless_slow_body_is_stopped_by_the_deadline(server: FeedServer) -> None:
    url = server.add("/slow", slow_body(b"<!-- still going -->", every=0.05))
    started = time.monotonic()
    with pytest.raises(DeadlineError, match="longer than 1 s"):
        fast(deadline=1.0).get(url)
    assert time.monotonic() - started < 3


def test_headers_dripping_forever_are_stopped_by_the_deadline(server: FeedServer) -> None:
    def drip(req: Handler) -> None:
        try:
            req.wfile.write(b"HTTP/1.0 200 OK\r\n")
            for i in range(200):
                if req.server.owner.stopping.is_set():
                    return
                req.wfile.write(f"X-Drip-{i}: .\r\n".encode())
                req.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    url = server.add("/drip", drip)
    started = time.monotonic()
    with pytest.raises(DeadlineError):
        fast(deadline=1.0).get(url)
    assert time.monotonic() - started < 3


def test_read_timeout(server: FeedServer) -> None:
    def stall(req: Handler) -> None:
        req.server.owner.stopping.wait(3)

    url = server.add("/stall", stall)
    started = time.monotonic()
    with pytest.raises(FetchError, match="did not answer in time"):
        fast(read_timeout=0.5, deadline=5).get(url)
    assert time.monotonic() - started < 2


def test_connection_refused() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(FetchError, match="refused the connection"):
        fast().get(f"http://127.0.0.1:{port}/")


# --- https: certificates are verified ----------------------------------------------------


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_verifies_the_certificate(tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    srv = FeedServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    raw: ThreadingHTTPServer = srv._server
    raw.socket = ctx.wrap_socket(raw.socket, server_side=True)
    srv.serve_feed("/f", FEED)
    srv.start()
    try:
        url = f"https://localhost:{srv.port}/f"
        with pytest.raises(FetchError, match="certificate of localhost could not be verified"):
            fast().get(url)
        trusting = ssl.create_default_context(cafile=str(cert))
        fetcher = Fetcher(FetchLimits(deadline=5), ssl_context=trusting)
        assert fetcher.get(url).body == FEED
    finally:
        srv.stop()


def test_https_to_http_downgrade_is_refused(
    tls_cert: tuple[Path, Path], server: FeedServer
) -> None:
    cert, key = tls_cert
    srv = FeedServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv._server.socket = ctx.wrap_socket(srv._server.socket, server_side=True)
    server.serve_feed("/plain", FEED)
    srv.add("/f", Reply(301, {"Location": server.url("/plain")}))
    srv.start()
    try:
        fetcher = Fetcher(
            FetchLimits(deadline=5), ssl_context=ssl.create_default_context(cafile=str(cert))
        )
        with pytest.raises(RedirectError, match="from https to plain http"):
            fetcher.get(f"https://localhost:{srv.port}/f")
    finally:
        srv.stop()


def test_no_thread_is_left_behind(server: FeedServer) -> None:
    url = server.serve_feed("/f", FEED)
    before = threading.active_count()
    for _ in range(5):
        fast().get(url)
    time.sleep(0.05)
    assert threading.active_count() <= before + 1


def test_retry_after_in_the_past_means_now() -> None:
    now = datetime.now(UTC)
    past = (now - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(past, now) == 0


def test_a_url_with_spaces_and_non_ascii_is_sent_percent_encoded(server: FeedServer) -> None:
    server.serve_feed("/b%C3%BCcher%20neu.xml", FEED)
    r = fast().get(server.url("/bücher neu.xml"))
    assert r.body == FEED
    assert r.url.endswith("/b%C3%BCcher%20neu.xml")


def test_an_internationalised_host_goes_out_as_idna(server: FeedServer) -> None:
    server.serve_feed("/feed", FEED)
    routed = Routed(server, {"xn--bcher-kva.example": "93.184.215.14"})
    fetcher = Fetcher(FetchLimits(deadline=5), resolver=routed.resolve, connector=routed.connect)
    assert fetcher.get(f"http://bücher.example:{server.port}/feed").body == FEED
    assert server.requests[-1].headers["host"] == f"xn--bcher-kva.example:{server.port}"


def test_each_address_of_a_host_is_tried_in_turn(server: FeedServer) -> None:
    server.serve_feed("/feed", FEED)
    tried: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        return ["2001:db8::1", "93.184.215.14"]  # a broken IPv6 route, then IPv4

    def connect(ip: str, port: int, timeout: float) -> socket.socket:
        tried.append(ip)
        if ip == "2001:db8::1":
            raise ConnectionRefusedError(111, "Connection refused")
        return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)

    fetcher = Fetcher(FetchLimits(deadline=5), resolver=resolve, connector=connect)
    assert fetcher.get(f"http://feeds.example.com:{server.port}/feed").body == FEED
    assert tried == ["2001:db8::1", "93.184.215.14"]


CRAFTED = Path(__file__).parents[2] / "data" / "feeds"


def _first_byte_alone(header: str, data: bytes) -> Callable[[Handler], None]:
    """A reply whose body arrives as one chunk of 1 byte, then the rest: the first
    read sees a single byte."""

    def reply(req: Handler) -> None:
        req.protocol_version = "HTTP/1.1"
        req.send_response(200)
        req.send_header("Content-Encoding", header)
        req.send_header("Transfer-Encoding", "chunked")
        req.send_header("Connection", "close")
        req.end_headers()
        for part in (data[:1], data[1:]):
            req.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            req.wfile.flush()
        req.wfile.write(b"0\r\n\r\n")

    return reply


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw"])
def test_a_compressed_body_whose_first_read_is_one_byte(server: FeedServer, encoding: str) -> None:
    zlib_data = (CRAFTED / "empty-channel.rss.zlib").read_bytes()
    body = zlib.decompress(zlib_data)
    if encoding == "gzip":
        data, header = gzip.compress(body), "gzip"
    elif encoding == "deflate-zlib":
        data, header = zlib_data, "deflate"
    else:
        c = zlib.compressobj(wbits=-15)
        data, header = c.compress(body) + c.flush(), "deflate"
    url = server.add("/one", _first_byte_alone(header, data))
    assert fast().get(url).body == body


@pytest.mark.parametrize("wbits", [15, -15])
def test_a_deflate_bomb_whose_first_read_is_one_byte_stops_at_the_cap(
    server: FeedServer, wbits: int
) -> None:
    c = zlib.compressobj(9, wbits=wbits)
    bomb = c.compress(b"\0" * (10 * 1024 * 1024)) + c.flush()
    url = server.add("/bomb1", _first_byte_alone("deflate", bomb))
    with pytest.raises(TooLargeError, match="once decompressed"):
        fast(max_bytes=1024 * 1024).get(url)


def test_a_corrupt_deflate_body_is_still_an_error(server: FeedServer) -> None:
    url = server.add("/bad", _first_byte_alone("deflate", b"\x78\x9c" + b"\xff" * 40))
    with pytest.raises(FetchError, match="corrupt compressed body"):
        fast().get(url)
