"""OPML import and export of feed subscriptions, folders included.

Nested outlines are folders: a feed's folder path is kept in its source config as
``group`` ("Tech/Python"; a "/" inside a folder name is written "\\/"). Export writes
the folders back as nested outlines, so that import(export(x)) gives x again. OPML is
parsed with defusedxml: entity declarations and external references are refused.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from focusdesk.errors import KnownError, SourceError

__all__ = [
    "OpmlDocument",
    "OpmlFeed",
    "OpmlImport",
    "export_feeds",
    "import_feeds",
    "join_group",
    "parse_opml",
    "read_opml",
    "split_group",
    "write_opml",
]

MAX_OPML_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription: its title, feed URL (or path), site URL and folder path."""

    title: str
    xml_url: str
    html_url: str | None = None
    group: str | None = None
    """Folder path, as ``join_group`` writes it; None at the top level."""


@dataclass
class OpmlDocument:
    """A parsed OPML file."""

    title: str
    feeds: list[OpmlFeed] = field(default_factory=list)


@dataclass
class OpmlImport:
    """What an import did: the sources added and the outlines skipped, with why."""

    added: list[Any] = field(default_factory=list)
    """The ``SourceInfo`` of every source added."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(feed title or URL, reason) of every feed not added."""


# --- group paths ------------------------------------------------------------------


def join_group(parts: Iterable[str]) -> str | None:
    """A folder path as one string: names joined by "/", a "/" in a name escaped "\\/"."""
    names = [p.strip().replace("\\", "\\\\").replace("/", "\\/") for p in parts if p.strip()]
    return "/".join(names) or None


def split_group(group: str | None) -> list[str]:
    """The folder names of a path written by ``join_group`` (or typed as "A/B")."""
    if not group:
        return []
    names: list[str] = []
    current: list[str] = []
    chars = iter(group)
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, "\\"))
        elif ch == "/":
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    return [n.strip() for n in names if n.strip()]


# --- reading ----------------------------------------------------------------------


def _attr(el: ET.Element, name: str) -> str:
    """An attribute by case-insensitive name (exporters write xmlUrl, xmlurl, XMLURL)."""
    value = el.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in el.attrib.items() if k.lower() == lower), None)
    return (value or "").strip()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_opml(data: bytes) -> OpmlDocument:
    """Parse OPML bytes into feeds with their folder paths; raises ``SourceError``."""
    import defusedxml
    import defusedxml.ElementTree as DET

    if len(data) > MAX_OPML_BYTES:
        raise SourceError("The OPML file is larger than 20 MB; FocusDesk did not read it.")
    try:
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise SourceError(
            f"The OPML file uses forbidden XML features ({type(exc).__name__}); "
            "FocusDesk refused to read it."
        ) from None
    except ET.ParseError as exc:
        raise SourceError(f"The file is not valid OPML: the XML is malformed ({exc}).") from None
    if _local(root.tag) != "opml":
        raise SourceError(f"The file is not OPML: its root element is <{_local(root.tag)}>.")
    head_title = ""
    body = None
    for child in root:
        name = _local(child.tag)
        if name == "head":
            title_el = next((c for c in child if _local(c.tag) == "title"), None)
            head_title = (title_el.text or "").strip() if title_el is not None else ""
        elif name == "body":
            body = child
    doc = OpmlDocument(title=head_title)
    if body is None:
        return doc
    # An explicit stack: a deeply nested file must not overflow the recursion limit.
    stack: list[tuple[ET.Element, tuple[str, ...]]] = [
        (el, ()) for el in reversed(list(body)) if _local(el.tag) == "outline"
    ]
    while stack:
        el, path = stack.pop()
        text = _attr(el, "text") or _attr(el, "title")
        xml_url = _attr(el, "xmlUrl")
        children = [c for c in el if _local(c.tag) == "outline"]
        if xml_url:
            doc.feeds.append(
                OpmlFeed(
                    title=text or xml_url,
                    xml_url=xml_url,
                    html_url=_attr(el, "htmlUrl") or None,
                    group=join_group(path),
                )
            )
            inner = path
        else:
            inner = (*path, text) if text else path
        stack.extend((c, inner) for c in reversed(children))
    return doc


def read_opml(path: str | Path) -> OpmlDocument:
    """Read and parse an OPML file; raises ``SourceError`` with a message for the user."""
    p = Path(path).expanduser()
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_OPML_BYTES + 1)
    except FileNotFoundError:
        raise SourceError(f"The OPML file {p} does not exist.") from None
    except IsADirectoryError:
        raise SourceError(f"{p} is a folder, not an OPML file.") from None
    except OSError as exc:
        raise SourceError(f"The OPML file {p} could not be read: {exc.strerror or exc}.") from None
    return parse_opml(data)


# --- writing ----------------------------------------------------------------------


def write_opml(
    feeds: Iterable[OpmlFeed], *, title: str = "FocusDesk feeds", now: datetime
) -> bytes:
    """OPML 2.0 bytes with the feeds nested in their folders (in first-seen order), dated
    ``now``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(
        now.astimezone(UTC), usegmt=True
    )
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {(): body}
    for feed in feeds:
        path: tuple[str, ...] = ()
        parent = body
        for name in split_group(feed.group):
            path = (*path, name)
            if path not in folders:
                folders[path] = ET.SubElement(parent, "outline", text=name, title=name)
            parent = folders[path]
        attrs = {"type": "rss", "text": feed.title, "title": feed.title, "xmlUrl": feed.xml_url}
        if feed.html_url:
            attrs["htmlUrl"] = feed.html_url
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# --- sources <-> OPML ---------------------------------------------------------------

AddFeed = Callable[[str, str, dict[str, Any]], Any]
"""(uri, name, config) -> the added source's info; raises ``KnownError`` when refused."""


def import_feeds(doc: OpmlDocument, add: AddFeed, *, allow_local: bool = False) -> OpmlImport:
    """Add each feed of ``doc`` through ``add``; the refused ones are reported, not fatal.

    Feeds that are local files (``file:`` URLs, paths) are skipped unless ``allow_local``:
    an OPML file from elsewhere must not make FocusDesk read files on this machine.
    """
    report = OpmlImport()
    for feed in doc.feeds:
        if not allow_local and not feed.xml_url.lower().startswith(("http://", "https://")):
            report.skipped.append(
                (
                    feed.title or feed.xml_url,
                    "it is a local file, not a web address "
                    "(import local feeds with --allow-local-files)",
                )
            )
            continue
        config: dict[str, Any] = {}
        if feed.group:
            config["group"] = feed.group
        if feed.html_url:
            config["html_url"] = feed.html_url
        try:
            report.added.append(add(feed.xml_url, feed.title, config))
        except KnownError as exc:
            report.skipped.append((feed.title or feed.xml_url, exc.message))
    return report


def export_feeds(sources: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[OpmlFeed]:
    """Feed sources as (name, uri, config) to OPML entries; local paths become file: URLs."""
    out: list[OpmlFeed] = []
    for name, uri, config in sources:
        xml_url = uri
        if not uri.lower().startswith(("http://", "https://")):
            xml_url = Path(uri).expanduser().absolute().as_uri()
        group = config.get("group")
        html_url = config.get("html_url")
        out.append(
            OpmlFeed(
                title=name,
                xml_url=xml_url,
                html_url=html_url if isinstance(html_url, str) and html_url else None,
                group=group if isinstance(group, str) and group else None,
            )
        )
    return out
