"""A real HTTP server on 127.0.0.1 for the feed and fetcher tests.

Routes map a path to a ``Reply`` (or a function of the request that returns one, or
that writes the response itself). Every request is recorded, so that a test can
assert that a sync did or did not reach the server. Loopback only; every handler
stops by itself (the slow ones are bounded in time).
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Route = Reply | Callable[["Handler"], Reply | None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.hits[path] += 1
        owner.requests.append(Seen(path, {k.lower(): v for k, v in self.headers.items()}))
        route = owner.routes.get(path)
        if route is None:
            reply: Reply | None = Reply(404, {"Content-Type": "text/plain"}, b"not found")
        elif isinstance(route, Reply):
            reply = route
        else:
            reply = route(self)
        if reply is not None:
            self.send(reply)

    def send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        headers = dict(reply.headers)
        headers.setdefault("Content-Length", str(len(reply.body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: FeedServer


class FeedServer:
    """A loopback HTTP server with routes, hit counts and recorded request headers."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._server = _Server((host, 0), Handler)
        self._server.owner = self
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def serve_feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/xml",
        etag: str | None = None,
        last_modified: str | None = None,
        gzipped: bool = False,
    ) -> str:
        """Serve ``body`` with validators, answering 304 to a matching conditional GET."""

        def route(req: Handler) -> Reply:
            inm = req.headers.get("If-None-Match")
            ims = req.headers.get("If-Modified-Since")
            if (etag and inm == etag) or (not etag and last_modified and ims == last_modified):
                return Reply(304, _validators(etag, last_modified))
            headers = {"Content-Type": content_type, **_validators(etag, last_modified)}
            data = body
            if gzipped:
                headers["Content-Encoding"] = "gzip"
                data = gzip.compress(body)
            return Reply(200, headers, data)

        return self.add(path, route)


def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    out = {}
    if etag:
        out["ETag"] = etag
    if last_modified:
        out["Last-Modified"] = last_modified
    return out


def http_date(when: float) -> str:
    return email.utils.formatdate(when, usegmt=True)


def slow_body(chunk: bytes, every: float, *, limit_s: float = 10.0) -> Callable[[Handler], None]:
    """A route that sends headers, then ``chunk`` every ``every`` seconds, for at most
    ``limit_s`` seconds or until the client goes away or the server stops."""

    def route(req: Handler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.end_headers()
        ends = time.monotonic() + limit_s
        try:
            req.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>slow')
            req.wfile.flush()
            while time.monotonic() < ends and not req.server.owner.stopping.is_set():
                time.sleep(every)
                req.wfile.write(chunk)
                req.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    return route


@contextmanager
def running_server(host: str = "127.0.0.1") -> Iterator[FeedServer]:
    server = FeedServer(host).start()
    try:
        yield server
    finally:
        server.stop()
