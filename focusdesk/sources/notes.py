"""A folder of Markdown and plain-text notes (an Obsidian vault, say) as a source.

Front matter, tags and wikilinks are read the way Obsidian reads them; the folder is
only ever read, never written to. Hidden files and folders (".obsidian", ".trash",
".git") are skipped.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem, ScanResult
from focusdesk.sources.text import normalise_whitespace, valid_unicode

__all__ = ["NOTE_SUFFIXES", "NotesIngester"]

log = logging.getLogger(__name__)

NOTE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
MAX_NOTE_BYTES = 16 * 1024 * 1024
_MAX_FRONT_MATTER_NODES = 10_000

# --- reading and decoding -------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --- front matter -----------------------------------------------------------------

_TEMPLATE_VALUE = re.compile(r"^([^:#\n]*:[ \t]*)(\{\{[^{}\n]*\}\})[ \t]*$", re.MULTILINE)


@dataclass
class _FrontMatter:
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """Return (front matter source or None, the rest of the note)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None, text
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    return None, text  # no closing line: a note that starts with a rule


def _json_safe(value: Any, budget: list[int], path: tuple[int, ...] = ()) -> Any:
    """Convert YAML values to JSON types; dates become ISO strings, cycles and floods are cut."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if isinstance(value, str):
        return valid_unicode(value)  # YAML "\ud800" escapes give lone surrogates
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if id(value) in path:
        return None  # a YAML anchor that refers to itself
    inner = (*path, id(value))
    if isinstance(value, dict):
        return {valid_unicode(str(k)): _json_safe(v, budget, inner) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, budget, inner) for v in value]
    return str(value)


def _parse_front_matter(source: str, where: str) -> _FrontMatter:
    try:
        loaded = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        # Obsidian templates hold unquoted placeholders ("created: {{date}}").
        patched = _TEMPLATE_VALUE.sub(r'\1"\2"', source)
        try:
            loaded = yaml.safe_load(patched) if patched != source else None
        except yaml.YAMLError:
            loaded = None
        if loaded is None:
            reason = " ".join(str(exc).split())
            log.warning("Ignored malformed front matter in %s: %s", where, reason)
            return _FrontMatter(error=reason)
    except Exception as exc:  # e.g. RecursionError on absurdly nested YAML
        log.warning("Ignored unreadable front matter in %s: %s", where, exc)
        return _FrontMatter(error=str(exc))
    if not isinstance(loaded, dict):
        if loaded is not None:
            log.info("Ignored front matter that is not a mapping in %s", where)
        return _FrontMatter()
    safe = _json_safe(loaded, [_MAX_FRONT_MATTER_NODES])
    return _FrontMatter(data=safe if isinstance(safe, dict) else {})


def _front_matter_date(raw: Any) -> datetime | None:
    """A front matter date or datetime as an aware datetime; None if not a date."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        when = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _tag_list(raw: Any) -> list[str]:
    if isinstance(raw, str):
        values: list[Any] = re.split(r"[,\s]+", raw)
    elif isinstance(raw, list):
        values = raw
    else:
        return []
    tags: list[str] = []
    for value in values:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            tag = str(value).strip().lstrip("#").strip()
            if tag:
                tags.append(tag)
    return tags


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


# --- Markdown to text ---------------------------------------------------------------

_INLINE_CODE = re.compile(r"(`+)(.{1,2000}?)\1")
_EMBED = re.compile(r"!\[\[([^\[\]\n]*)\]\]")
_WIKILINK = re.compile(r"\[\[([^\[\]\n]+)\]\]")
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)")
_REF_LINK = re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp|obsidian):[^<>\s]+)>", re.IGNORECASE)
_FOOTNOTE_REF = re.compile(r"\[\^[^\[\]\s]+\]")
_HTML_BREAK = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr)\b[^<>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_TAG = re.compile(r"(?<![\w#&/])#([\w/-]+)")
# Emphasis markers are dropped where they open or close a word; linear-time on purpose
# (pairing them with a lazy regex is quadratic on lines full of unmatched "_").
_MARKER_OPEN = re.compile(r"(?<![\w*~=])(?:\*\*|__|~~|==|[*_])(?=[^\s*~=_])")
_MARKER_CLOSE = re.compile(r"(?<=[^\s*~=_])(?:\*\*|__|~~|==|[*_])(?![\w*~=])")
_BLOCKQUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?[ \t]*")
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX/-]\][ \t]+)?")
_RULE = re.compile(r"^[ \t]*(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE_RULE = re.compile(
    r"^[ \t]*(?:\|[ \t]*)?:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*(?:\|[ \t]*)?$"
)
# A line with none of these characters holds no Markdown to reduce (most prose lines).
_MARKUP_CHAR = re.compile(r"[\[\]<>*_~=#|!`\-+0-9]")
_MARKER_CHAR = re.compile(r"[*_~=]")
_REF_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$")


def _link_parts(inner: str) -> tuple[str, str]:
    """Split the inside of [[...]] into (target note, text shown)."""
    target, _, alias = inner.partition("|")
    target = target.strip()
    note = re.split(r"[#^]", target, maxsplit=1)[0].strip()
    shown = alias.strip() or target.replace("#^", " ").replace("#", " > ").strip(" >")
    return note, shown


@dataclass
class _Markdown:
    text: str = ""
    title: str | None = None
    links: list[str] = field(default_factory=list)
    embeds: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _inline(segment: str, found: _Markdown) -> str:
    """Reduce one stretch of inline Markdown (outside code spans) to its text."""
    if _MARKUP_CHAR.search(segment) is None:
        return segment

    def embed(match: re.Match[str]) -> str:
        note, _ = _link_parts(match.group(1))
        if note:
            found.embeds.append(note)
        return ""

    def wikilink(match: re.Match[str]) -> str:
        note, shown = _link_parts(match.group(1))
        if note:
            found.links.append(note)
        return shown

    if "[" in segment:
        segment = _EMBED.sub(embed, segment)
        segment = _WIKILINK.sub(wikilink, segment)
        segment = _IMAGE.sub(r"\1", segment)
        segment = _LINK.sub(r"\1", segment)
        segment = _REF_LINK.sub(r"\1", segment)
        segment = _FOOTNOTE_REF.sub("", segment)
    if "<" in segment:
        segment = _AUTOLINK.sub(r"\1", segment)
        segment = _HTML_BREAK.sub("\n", segment)
        segment = _HTML_TAG.sub("", segment)

    def tag(match: re.Match[str]) -> str:
        name = match.group(1).strip("/")
        if not name or name.replace("/", "").isdigit():
            return match.group(0)  # "#1" or "#2024" is not a tag in Obsidian
        found.tags.append(name)
        return name

    if "#" in segment:
        segment = _TAG.sub(tag, segment)
    if _MARKER_CHAR.search(segment) is None:
        return segment
    segment = _MARKER_OPEN.sub("", segment)
    return _MARKER_CLOSE.sub("", segment)


def _line(line: str, found: _Markdown) -> str | None:
    """One line of Markdown (not code, not a heading) as text, or None for pure markup."""
    if _MARKUP_CHAR.search(line) is None:
        return line
    if _RULE.match(line) or _TABLE_RULE.match(line) or _REF_DEFINITION.match(line):
        return None
    line = _BLOCKQUOTE.sub("", line)
    line = _CALLOUT.sub("", line)
    line = _LIST_MARKER.sub("", line)
    if _MARKUP_CHAR.search(line) is None:
        return line
    if "|" in line and line.strip().startswith("|"):
        line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
    parts: list[str] = []
    pos = 0
    for match in _INLINE_CODE.finditer(line):
        parts.append(_inline(line[pos : match.start()], found))
        parts.append(match.group(2).strip())
        pos = match.end()
    parts.append(_inline(line[pos:], found))
    return "".join(parts)


_COMMENT_MARKS = (("<!--", "-->"), ("%%", "%%"))  # HTML and Obsidian comments


def _strip_comments(text: str) -> str:
    """``text`` without its ``<!-- -->`` and ``%% %%`` comments, in linear time: an opener
    with no closer after it means no later opener of that kind closes either."""
    out: list[str] = []
    pos = 0
    ahead = {opener: text.find(opener) for opener, _ in _COMMENT_MARKS}
    while True:
        for opener in ahead:
            if 0 <= ahead[opener] < pos:
                ahead[opener] = text.find(opener, pos)
        live = [(at, opener) for opener, at in ahead.items() if at >= 0]
        if not live:
            break
        start, opener = min(live)
        closer = dict(_COMMENT_MARKS)[opener]
        end = text.find(closer, start + len(opener))
        if end < 0:
            ahead[opener] = -1  # never closed: the rest holds no comment of this kind
            continue
        out.append(text[pos:start])
        pos = end + len(closer)
    out.append(text[pos:])
    return "".join(out)


# markdown-it takes 10 to 50 µs a line: a longer note (no real one is) is read line by
# line, its code and headings as plain lines, so that its time stays bounded.
MAX_PARSED_LINES = 40_000
_BLOCK_MARKS = ("```", "~~~", "<", "#", "    ", "\t", "=", "--")
_DASH_LINE = re.compile(r"^[ \t>]*-[ \t]*$", re.MULTILINE)  # "Title\n-" is a heading


def _may_hold_blocks(text: str) -> bool:
    """Whether ``text`` can hold code, an HTML block or a heading at all: markdown-it
    costs about 10 µs a line, so notes without any are not given to it."""
    return any(mark in text for mark in _BLOCK_MARKS) or _DASH_LINE.search(text) is not None


@functools.cache
def _block_parser() -> Any:
    """CommonMark block structure only (code, HTML blocks, headings, quotes, lists):
    markdown-it's inline pass is left out, it costs far more than the rest on long lines."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark")
    parser.core.ruler.disable("inline")
    parser.disable("reference")  # link definitions are dropped line by line below
    return parser


def _markdown_to_text(markdown: str) -> _Markdown:
    """Reduce a note's Markdown to plain text and collect its links, embeds and tags.

    markdown-it finds the blocks: code is kept as it is (fences dropped), headings give
    the title, the rest is reduced line by line with comments removed.
    """
    found = _Markdown()
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Lines that markdown-it shows to be code or a heading, by the line they start on.
    special: dict[int, tuple[int, list[str] | None, str]] = {}
    text = "\n".join(lines)
    tokens = []
    if _may_hold_blocks(text):
        if len(lines) <= MAX_PARSED_LINES:
            tokens = _block_parser().parse(text)
        else:
            log.info("A note of %d lines is read line by line, without its blocks", len(lines))
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("fence", "code_block"):
            special[start] = (end, token.content.rstrip("\n").split("\n"), "")
        elif token.type == "heading_open" and index + 1 < len(tokens):
            heading = tokens[index + 1].content
            special[start] = (end, [heading], token.tag)
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        for line in _strip_comments("\n".join(prose)).split("\n") if prose else []:
            reduced = _line(line, found)
            if reduced is not None:
                out.append(reduced)
        prose.clear()

    row = 0
    while row < len(lines):
        block = special.get(row)
        if block is None:
            prose.append(lines[row])
            row += 1
            continue
        flush()
        end, content, tag = block
        if tag:  # a heading: its text, the first level-one heading is the title
            text = _inline(_strip_comments(content[0] if content else ""), found)
            if tag == "h1" and found.title is None and text.strip():
                found.title = " ".join(text.split())
            out.append(text)
        elif content is not None and content != [""]:
            out.append("\n".join(content))  # code is kept as text, fence markers dropped
        row = max(end, row + 1)
    flush()
    found.text = normalise_whitespace(html.unescape("\n".join(out)))
    found.links = _dedupe(found.links)
    found.embeds = _dedupe(found.embeds)
    found.tags = _dedupe(found.tags)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _note_id(rel: str) -> str:
    """The note's id: its relative path, with the bytes of a name that is not UTF-8
    (decoded by Python as lone surrogates) written as ``\\xff`` so that ids stay distinct
    and storable."""
    if valid_unicode(rel) == rel:
        return rel
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


# --- the ingester ---------------------------------------------------------------------


class NotesIngester:
    """Reads every Markdown and text note under a folder, recursively and read-only."""

    kind = "notes"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self._result = ScanResult(complete=False)

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        return self._result

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield every note (or a failure); every file is re-read on each scan."""
        self._result = ScanResult(state=dict(state), complete=False)
        self._check_root()
        files: dict[str, list[int]] = {}
        complete = True
        for entry in self._walk():
            if isinstance(entry, IngestFailure):
                complete = False
                yield entry
                continue
            rel, path = entry
            result, info = self._read(rel, path)
            if info is not None:
                files[rel] = [info.st_size, info.st_mtime_ns]
            yield result
        self._result = ScanResult(state={"files": files}, complete=complete)

    def _check_root(self) -> None:
        try:
            info = self.root.stat()
        except FileNotFoundError:
            raise SourceError(f"The notes folder {self.root} does not exist.") from None
        except OSError as exc:
            raise SourceError(
                f"The notes folder {self.root} could not be opened: {exc.strerror or exc}."
            ) from exc
        if not stat.S_ISDIR(info.st_mode):
            raise SourceError(f"{self.root} is a file, not a folder of notes.")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise SourceError(f"FocusDesk is not allowed to read the notes folder {self.root}.")

    def _walk(self) -> Iterator[tuple[str, Path] | IngestFailure]:
        """Yield (relative POSIX path, path) of each note, in a stable order, depth first."""
        visited: set[tuple[int, int]] = set()
        stack: list[Path] = [self.root]
        while stack:
            folder = stack.pop()
            try:
                info = folder.stat()
                key = (info.st_dev, info.st_ino)
                if key in visited:
                    continue  # a symlink loop
                visited.add(key)
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                if folder == self.root:
                    raise SourceError(
                        f"The notes folder {self.root} could not be read: {exc.strerror or exc}."
                    ) from exc
                rel = _note_id(folder.relative_to(self.root).as_posix() + "/")
                log.warning("Skipped unreadable folder %s: %s", folder, exc)
                reason = valid_unicode(f"folder could not be read: {exc}")
                yield IngestFailure(ref=rel, reason=reason)
                continue
            subfolders: list[Path] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        subfolders.append(Path(entry.path))
                    elif (
                        entry.is_file() and os.path.splitext(entry.name)[1].lower() in NOTE_SUFFIXES
                    ):
                        path = Path(entry.path)
                        yield _note_id(path.relative_to(self.root).as_posix()), path
                except OSError as exc:
                    log.warning("Skipped %s: %s", entry.path, exc)
            stack.extend(reversed(subfolders))

    def _read(self, rel: str, path: Path) -> tuple[RawItem | IngestFailure, os.stat_result | None]:
        """The note as an item with the stat it was read under, or a failure."""
        try:
            info = path.stat()
            if info.st_size > MAX_NOTE_BYTES:
                raise ValueError(f"the note is larger than {MAX_NOTE_BYTES // (1024 * 1024)} MiB")
            with path.open("rb") as fh:
                data = fh.read(MAX_NOTE_BYTES + 1)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            log.warning("Skipped note %s: %s", path, reason)
            reason = valid_unicode(f"the note could not be read: {reason}")
            return IngestFailure(ref=rel, reason=reason), None
        try:
            item = self._parse(rel, path, _decode(data), info)
        except Exception as exc:  # one bad note must never stop the sync
            log.exception("Could not read note %s", path)
            reason = valid_unicode(f"the note could not be parsed: {exc}")
            return IngestFailure(ref=rel, reason=reason), None
        return item, info

    def _parse(self, rel: str, path: Path, text: str, info: os.stat_result) -> RawItem:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        source, body = _split_front_matter(text)
        front = _parse_front_matter(source, rel) if source is not None else _FrontMatter()
        body = body.lstrip("\n").rstrip()
        is_markdown = path.suffix.lower() != ".txt"
        if is_markdown:
            md = _markdown_to_text(body)
        else:
            md = _Markdown(text=normalise_whitespace(body))
        fm = front.data

        title_value = fm.get("title")
        title = " ".join(str(title_value).split()) if title_value not in (None, "") else ""
        title = title or md.title or valid_unicode(path.stem)

        tags = _dedupe(_tag_list(fm.get("tags", fm.get("tag"))) + md.tags)
        front_links = [
            _link_parts(m.group(1))[0] for s in _strings(fm) for m in _WIKILINK.finditer(s)
        ]
        links = _dedupe(md.links + [link for link in front_links if link])

        published = None
        for key in ("date", "created"):
            published = _front_matter_date(fm.get(key))
            if published is not None:
                break
        if published is None:
            published = datetime.fromtimestamp(info.st_mtime_ns / 1e9, tz=UTC)

        meta: dict[str, Any] = {
            "path": valid_unicode(str(path)),  # shown; the URL names the file exactly
            "tags": tags,
            "links": links,
            "embeds": md.embeds,
            "front_matter": fm,
        }
        if front.error:
            meta["front_matter_error"] = front.error
        return RawItem(
            external_id=rel,
            kind="note",
            title=title,
            text=md.text,
            body=body,
            url=path.as_uri(),
            published_at=published,
            meta=meta,
        )
