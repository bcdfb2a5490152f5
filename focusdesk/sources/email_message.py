"""One email message to one RawItem, shared by the mbox, Maildir and IMAP sources.

Real mail is often malformed: a bad header, charset or MIME structure degrades to
the raw text rather than an exception, and only input that holds no message at all
is refused (with a ValueError the ingesters turn into an IngestFailure).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import quopri
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any, TypeVar

from focusdesk.sources.base import RawItem
from focusdesk.sources.charsets import bom_codec, decode_text, detect_charset, repair_surrogates
from focusdesk.sources.mail_html import html_part_meta, plain_is_stub
from focusdesk.sources.text import clean_for_ranking, html_to_text

__all__ = ["message_to_item", "parse_message_bytes"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

NO_SUBJECT = "(no subject)"
_FOLD = re.compile(r"\r?\n[ \t]*")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{4,}")
_MAX_PARTS = 1000
# The email package parses some headers in quadratic time (100 KB of Content-Type
# parameters take minutes): MIME headers are cut at _MAX_MIME_HEADER before parsing,
# other headers go through the policy only up to _MAX_POLICY_HEADER and are read up to
# _MAX_HEADER, and a message ends before its _MAX_PARTS-th boundary-like line.
_MAX_MIME_HEADER = 4096
_MAX_POLICY_HEADER = 512
# Its address parser takes ~0.3 ms an address: longer lists go through getaddresses.
_MAX_POLICY_ADDRESSES = 256
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})
_MAX_HEADER = 32768
_MIME_HEADER = re.compile(rb"^content-[!-9;-~]*[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M)
# A line that may delimit MIME parts ("--boundary", not a rule of dashes or a diff line).
_DELIMITER_LINE = re.compile(rb"^--\S*[^\s-]\S*[ \t]*\r?$", re.M)
_MULTIPART = re.compile(rb"^content-type:[ \t]*multipart/", re.I | re.M)
_NOT_PROSE = frozenset({"text/css", "text/javascript", "text/x-javascript", "text/ecmascript"})
_PARAM = r"""(?:^|;)\s*{name}\*?\s*=\s*(?:"([^"]*)"|([^;\s]+))"""


def _safe(fn: Callable[[], _T], default: _T) -> _T:
    """Call ``fn``; any error gives ``default`` (odd mail makes the email package raise)."""
    try:
        return fn()
    except Exception:  # malformed mail can raise almost anything here
        return default


def _raw_items(msg: Message) -> list[tuple[str, Any]]:
    """The message's headers as (name, raw value) pairs, never parsed by the policy."""
    try:
        return list(msg.raw_items())
    except Exception:
        return []


def _raw_header(msg: Message, name: str) -> str | None:
    """The header's raw value as it appears in the message, unfolded (its first
    ``_MAX_HEADER`` characters); None if absent."""
    wanted = name.lower()
    for key, value in _raw_items(msg):
        if str(key).lower() == wanted:
            return _FOLD.sub(" ", str(value)[:_MAX_HEADER]).strip()
    return None


def _policy_get(msg: Message, name: str, raw: str) -> Any:
    """The policy's parsed header, or None when it is too long to parse in good time."""
    limit = _MAX_POLICY_ADDRESSES if name.lower() in _ADDRESS_HEADERS else _MAX_POLICY_HEADER
    if len(raw) > limit:
        return None
    return _safe(lambda: _parsed_header(name, raw), None)


@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, raw: str) -> Any:
    """The policy's parse of one header value (it depends on nothing else, and a message's
    From is asked for three times)."""
    return _POLICY.header_fetch_parse(name, raw)


def _decode_raw_header(raw: str, hint: str | None = None) -> str:
    """Decode RFC 2047 encoded words leniently, keeping the raw text where that fails;
    raw 8-bit bytes are decoded as ``hint`` (the message's charset) or detected."""

    def decoded() -> str:
        parts = decode_header(raw)
        if all(isinstance(chunk, str) for chunk, _ in parts):
            return raw
        out: list[str] = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                out.append(decode_text(chunk, charset, hint=hint))
            else:
                out.append(chunk)
        return "".join(out)

    text = _safe(lambda: str(make_header(decode_header(raw))), "") or _safe(decoded, raw)
    return repair_surrogates(text, hint)


def _header(msg: Message, name: str, hint: str | None = None) -> str | None:
    """A header as readable text, falling back to the raw string when the policy chokes."""
    raw = _raw_header(msg, name)
    if raw is None:
        return None
    value = _policy_get(msg, name, raw)
    text = None if value is None else _safe(lambda: str(value), None)
    if text is None or ("\ufffd" in text and "\ufffd" not in raw):
        # The policy could not parse it, or replaced raw 8-bit bytes it could not decode.
        text = _decode_raw_header(raw, hint)
    return " ".join(repair_surrogates(text, hint).split())


def _format_address(name: str, addr: str) -> str:
    name = " ".join(name.split()).strip("\"' ")
    addr = addr.strip()
    if name and addr:
        return f"{name} <{addr}>"
    return addr or name


def _addresses(msg: Message, name: str, hint: str | None = None) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, however malformed."""
    text = _header(msg, name, hint)
    if not text:
        return []

    def parsed() -> list[tuple[str, str]]:
        header: Any = _policy_get(msg, name, _raw_header(msg, name) or "")
        return (
            []
            if header is None
            else [(str(a.display_name), str(a.addr_spec)) for a in header.addresses]
        )

    nothing: list[tuple[str, str]] = []
    pairs = _safe(parsed, nothing)
    if not pairs:
        pairs = _safe(lambda: getaddresses([text]), nothing)
    pairs = [(n, a) for n, a in pairs if n or a]
    if not pairs:
        return [("", text)]
    # The policy drops an old-style "addr (Full Name)" comment; parseaddr keeps it.
    raw = _raw_header(msg, name)
    if len(pairs) == 1 and not pairs[0][0] and raw:
        decoded = _decode_raw_header(raw, hint)
        comment_name, addr = _safe(lambda: parseaddr(decoded), ("", ""))
        if comment_name and addr == pairs[0][1]:
            pairs = [(comment_name, addr)]
    return [(repair_surrogates(n, hint), repair_surrogates(a, hint)) for n, a in pairs]


def _content_type(part: Message) -> str:
    ctype = _safe(part.get_content_type, "")
    if ctype:
        return ctype.lower()
    raw = _raw_header(part, "Content-Type")
    if raw:
        main = raw.split(";", 1)[0].strip().lower()
        if re.fullmatch(r"[\w.+-]+/[\w.+-]+", main):
            return main
    return "text/plain"


def _raw_param(part: Message, header: str, name: str, hint: str | None = None) -> str | None:
    raw = _raw_header(part, header)
    if not raw:
        return None
    match = re.search(_PARAM.format(name=re.escape(name)), raw, re.IGNORECASE)
    if not match:
        return None
    value = match.group(1) if match.group(1) is not None else match.group(2)
    if "''" in value:  # RFC 2231: charset'lang'percent-encoded
        value = value.split("''", 1)[1]
    return _decode_raw_header(value.strip(), hint) or None


def _charset(part: Message) -> str | None:
    charset = _safe(part.get_content_charset, None)
    return charset or _raw_param(part, "Content-Type", "charset")


def _disposition(part: Message) -> str | None:
    disposition = _safe(part.get_content_disposition, None)
    if disposition:
        return disposition
    raw = _raw_header(part, "Content-Disposition")
    if not raw:
        return None
    return raw.split(";", 1)[0].strip().lower() or None


def _filename(part: Message, hint: str | None = None) -> str | None:
    name = _safe(part.get_filename, None)
    raw = _raw_param(part, "Content-Disposition", "filename", hint) or _raw_param(
        part, "Content-Type", "name", hint
    )
    if raw and (not name or ("\ufffd" in name and "\ufffd" not in raw) or "\\" in raw):
        # Raw 8-bit names and Windows paths survive the raw parameter better.
        name = raw
    if not name:
        return None
    if "=?" in name:  # RFC 2047 words in a parameter: not standard, but common
        name = _decode_raw_header(str(name), hint)
    name = " ".join(repair_surrogates(str(name), hint).split())
    name = re.split(r"[\\/]", name)[-1] or name  # "C:\TEMP\x.png" -> "x.png"
    return name or None


def _payload_bytes(part: Message) -> bytes:
    """The part's body with its transfer encoding undone, or the raw bytes if that fails."""
    data = _safe(lambda: part.get_payload(decode=True), None)
    if isinstance(data, bytes):
        return data
    raw = _safe(lambda: part.get_payload(), None)
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return raw.encode("utf-8", "replace")
    return b""


def _cte(part: Message) -> str:
    raw = _raw_header(part, "Content-Transfer-Encoding") or ""
    return raw.strip().strip('"').lower()


def _encapsulated(part: Message, payload: list[Any]) -> Message | None:
    """A message/rfc822 part sent base64 or quoted-printable encoded, parsed for real."""
    if _content_type(part) != "message/rfc822" or len(payload) != 1:
        return None
    encoding = _cte(part)
    if encoding not in ("base64", "quoted-printable"):
        return None
    inner = payload[0]
    if not isinstance(inner, Message) or _raw_items(inner):
        return None  # the parser found headers: it is a real message already
    encoded = _safe(lambda: inner.get_payload(), None)
    if not isinstance(encoded, str):
        return None
    data = encoded.encode("ascii", "replace")
    if encoding == "base64":
        decoded = _safe(lambda: base64.b64decode(data + b"==="), b"")
    else:
        decoded = _safe(lambda: quopri.decodestring(data), b"")
    if not decoded.strip():
        return None
    return _safe(lambda: _parse(decoded), None)


_BOUNDARY_LINE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-][ 0-9A-Za-z'()+_,./:=?-]{0,69})\s*$", re.M)


def _recovered_multipart(part: Message) -> Message | None:
    """A multipart part the parser could not split (its boundary is missing or is not the
    one its body uses), split again on the first boundary line its body really has."""
    body = _safe(lambda: part.get_payload(), None)
    if not isinstance(body, str):
        return None
    match = _BOUNDARY_LINE.search(body[:65536])
    if match is None:
        return None
    boundary = match.group(1).rstrip()
    if boundary.endswith("--") and f"--{boundary[:-2]}\n" in body:
        boundary = boundary[:-2]  # matched a closing delimiter first
    head = f'Content-Type: {_content_type(part)}; boundary="{boundary}"\n\n'
    data = head.encode("ascii", "replace") + _payload_bytes(part)
    inner = _safe(lambda: _parse(data), None)
    if inner is None or not isinstance(_safe(inner.get_payload, None), list):
        return None
    return inner


def _walk(msg: Message) -> Iterator[tuple[Message, bool]]:
    """Every part and whether it is a leaf, depth first and without recursion."""
    stack: list[Message] = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        payload = _safe(part.get_payload, None)
        if isinstance(payload, list):
            yield part, False
            inner = _encapsulated(part, payload)
            if inner is not None:
                stack.append(inner)
                continue
            stack.extend(p for p in reversed(payload) if isinstance(p, Message))
        elif _content_type(part).startswith("multipart/"):
            recovered = _recovered_multipart(part)
            if recovered is not None:
                yield part, False
                stack.append(recovered)
            else:
                yield part, True  # unsplittable: its body is read as plain text
        else:
            yield part, True


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_BLANK_LINES.sub("\n\n\n", text)
    return text.strip("\n")


class _Body:
    """The readable text of a message, which parts were HTML and what was attached."""

    def __init__(self, parts: list[tuple[Message, bool]], hint: str | None) -> None:
        plain: list[str] = []
        html: list[str] = []
        other: list[str] = []
        self.attachments: list[str] = []
        self.has_html = False
        html_sources: list[str] = []
        for part, leaf in parts:
            filename = _filename(part, hint)
            if filename:
                self.attachments.append(filename)
            if not leaf:
                continue
            ctype = _content_type(part)
            if ctype.startswith("multipart/"):
                ctype = "text/plain"  # a multipart body that could not be split
            if ctype == "text/html":
                self.has_html = True
            if _disposition(part) == "attachment" or not ctype.startswith("text/"):
                continue
            if filename and ctype not in ("text/plain", "text/html"):
                continue
            text = decode_text(_payload_bytes(part), _charset(part), hint=hint)
            if ctype == "text/plain":
                plain.append(_tidy(text))
            elif ctype == "text/html":
                html.append(html_to_text(text))
                html_sources.append(text)
            elif ctype not in _NOT_PROSE:
                other.append(_tidy(text))  # text/enriched, text/x-usenet-faq, ...
        plain_text = "\n\n".join(t for t in plain if t.strip())
        html_text = "\n\n".join(t for t in html if t)
        self.html_meta = html_part_meta(html_sources, plain_text, html_text)
        # A "see the HTML version" stub is neither read nor ranked: the HTML's text is.
        stub = plain_is_stub(plain_text, html_text)
        chosen = ([t for t in plain if t.strip()] if not stub else []) or (
            [t for t in html if t] or other
        )
        self.text = "\n\n".join(t for t in chosen if t.strip())


def _header_charset(msg: Message, parts: list[tuple[Message, bool]]) -> str | None:
    """The charset raw 8-bit header bytes are most likely in: the one the message declares
    for itself or its first text part that declares one, else one detected on them all."""
    for part, _leaf in parts:
        charset = _charset(part)
        if charset and charset.lower() not in ("us-ascii", "ascii"):
            return charset
    raw = [str(v) for _k, v in _raw_items(msg) if not str(v).isascii()]
    if not raw:
        return None
    try:
        data = "\n".join(raw).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None
    return detect_charset(data)


def _published_at(msg: Message) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _message_id(msg: Message, name: str = "Message-ID", hint: str | None = None) -> str | None:
    raw = _raw_header(msg, name)
    if not raw:
        return None
    value = " ".join(repair_surrogates(raw, hint).split())
    return value or None


def _fallback_hash(from_: str, date: str, subject: str, body: str) -> str:
    h = hashlib.sha256()
    for part in (from_, date, subject, body):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return "sha256:" + h.hexdigest()


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    sample = data[:4096]
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f")
    return controls > len(sample) // 10


def message_to_item(msg: EmailMessage, *, fallback_id: str) -> RawItem:
    """Turn a parsed message into an ``email`` RawItem, degrading rather than failing.

    ``external_id`` is the Message-ID, else a hash of From, Date, Subject and body
    (stable across syncs), else ``fallback_id`` for a message with none of these.
    Raises ValueError only when the input holds no message at all.
    """
    try:
        return _message_to_item(msg, fallback_id)
    except ValueError:
        raise
    except Exception as exc:  # a bug on malformed mail is still one bad item
        log.debug("message could not be read", exc_info=True)
        raise ValueError(f"the message could not be read ({type(exc).__name__}: {exc})") from exc


def _message_to_item(msg: Message, fallback_id: str) -> RawItem:
    has_headers = bool(_raw_items(msg))
    parts = list(_walk(msg))
    hint = _header_charset(msg, parts)
    body = _Body(parts, hint)
    if not has_headers:
        if not body.text.strip():
            raise ValueError("the message has no headers and no text")
        raw = _payload_bytes(msg) if not msg.is_multipart() else b""
        if _looks_binary(raw):
            raise ValueError("the data is not an email message (no headers, binary content)")

    subject = _header(msg, "Subject", hint) or ""
    from_text = _header(msg, "From", hint) or ""
    date_text = _header(msg, "Date", hint) or ""
    senders = _addresses(msg, "From", hint)
    author = _format_address(*senders[0]) if senders else (from_text or None)
    message_id = _message_id(msg, hint=hint)
    if message_id:
        external_id = message_id
    elif from_text or date_text or subject or body.text:
        external_id = _fallback_hash(from_text, date_text, subject, body.text)
    else:
        external_id = fallback_id

    meta: dict[str, Any] = {
        "message_id": message_id,
        "from_addr": senders[0][1] if senders else None,
        "to": [_format_address(n, a) for n, a in _addresses(msg, "To", hint)],
        "cc": [_format_address(n, a) for n, a in _addresses(msg, "Cc", hint)],
        "has_html": body.has_html,
        "attachments": body.attachments,
        **body.html_meta,
    }
    newsgroups = _header(msg, "Newsgroups", hint)
    if newsgroups:
        meta["newsgroups"] = [g for g in re.split(r"[\s,]+", newsgroups) if g]
    in_reply_to = _message_id(msg, "In-Reply-To", hint)
    if in_reply_to:
        meta["in_reply_to"] = in_reply_to
    references = _header(msg, "References", hint)
    if references:
        meta["references"] = re.findall(r"<[^<>\s]+>", references)

    return RawItem(
        external_id=repair_surrogates(external_id),
        kind="email",
        title=repair_surrogates(subject) or NO_SUBJECT,
        text=repair_surrogates(clean_for_ranking(body.text)),
        body=repair_surrogates(body.text),
        author=repair_surrogates(author) if author else None,
        published_at=_published_at(msg),
        meta=_valid_meta(meta),
    )


def _valid_meta(value: Any) -> Any:
    """``value`` (meta's nested lists, dicts and strings) with no lone surrogate left."""
    if isinstance(value, str):
        return repair_surrogates(value)
    if isinstance(value, list):
        return [_valid_meta(v) for v in value]
    if isinstance(value, dict):
        return {k: _valid_meta(v) for k, v in value.items()}
    return value


def _bounded(data: bytes) -> bytes:
    """``data`` without what would make the email package take minutes: MIME headers
    longer than any real one are cut short, and a multipart message ends before its
    ``_MAX_PARTS``-th line that looks like a MIME boundary (real mail has far fewer)."""
    if _MULTIPART.search(data):
        for count, match in enumerate(_DELIMITER_LINE.finditer(data), start=1):
            if count >= _MAX_PARTS:
                data = data[: match.start()]
                break

    def cut(match: re.Match[bytes]) -> bytes:
        header = match.group(0)
        return header if len(header) <= _MAX_MIME_HEADER else header[:_MAX_MIME_HEADER]

    return _MIME_HEADER.sub(cut, data)


class _PlainMimeHeaders(HeaderRegistry):
    """The modern policy's headers, except that MIME (Content-*) headers stay plain
    strings, which ``Message`` reads with its simple, linear parameter parser: the
    modern parser takes about 10 ms for a 200-character Content-Type full of comments or
    quotes, and the email package reads it again for every part and every question."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        # The registry makes a new class on every call (~50 us each): made once per name.
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> Any:
        if name.lower().startswith("content-"):
            return value
        return super().__call__(name, value)


_POLICY = default_policy.clone(header_factory=_PlainMimeHeaders())


def _parse(data: bytes) -> EmailMessage:
    """The email package's parse (modern policy) of ``data`` made safe by ``_bounded``."""
    msg = BytesParser(policy=_POLICY).parsebytes(_bounded(data))
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default makes these
        raise ValueError("the message could not be parsed")
    return msg


def _without_bom(data: bytes) -> bytes:
    """The message without a leading byte-order mark (which would make its headers body
    text); a UTF-16 or UTF-32 message is converted to UTF-8."""
    marked = bom_codec(data)
    if marked is None:
        return data
    codec, length = marked
    if codec == "utf-8":
        return data[length:]
    return data[length:].decode(codec, "replace").encode("utf-8", "surrogatepass")


def parse_message_bytes(data: bytes) -> EmailMessage:
    """Parse raw RFC 5322 bytes with the modern email policy.

    Raises ValueError for empty input or input the parser rejects outright.
    """
    data = _without_bom(bytes(data))
    if not data or not data.strip():
        raise ValueError("the message is empty")
    try:
        msg = _parse(data)
    except Exception as exc:  # the parser is meant not to raise; be sure
        raise ValueError(f"the message could not be parsed ({type(exc).__name__}: {exc})") from exc
    return msg
