"""A Markdown note as safe HTML for the reader, the way Obsidian shows it. No Qt here.

markdown-it-py parses CommonMark plus tables and strikethrough, with Obsidian's
single-newline line breaks. On top of that: ``[[wikilinks]]`` (with ``|alias`` and
``#heading``) and ``![[embeds]]`` become relative links the reader opens inside
FocusDesk, ``> [!type] Title`` callouts (foldable ``+``/``-`` too) become styled boxes,
``- [ ]`` tasks get check boxes, ``%% comments %%`` are hidden, and the YAML front
matter becomes a "Properties" table. Everything that comes from the note goes through
the same allowlist sanitiser as mail (``html_safe.sanitize_html``); only the frames
drawn around it here (callout boxes, the properties table) are FocusDesk's own markup,
and every piece of note text inside them is escaped or sanitised.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import yaml
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from focusdesk.sources.html_safe import sanitize_html

__all__ = ["MAX_RENDERED_CHARS", "RenderedNote", "render_note", "wikilink_href"]

MAX_RENDERED_CHARS = 100_000
"""Longer notes are shown as plain text (rendering them would stall the reader)."""

_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_CALLOUT = re.compile(r"^\[!([A-Za-z][\w-]*)\]([+-]?)[ \t]*(.*)$")
_TASK = re.compile(r"^\[([ xX/-])\][ \t]+")
_COMMENT = re.compile(r"%%.*?%%", re.DOTALL)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif")

# Obsidian's callout colours (light and dark themes share them), by type and alias.
_CALLOUT_COLOURS = {
    "note": "#086ddd",
    "info": "#086ddd",
    "todo": "#086ddd",
    "abstract": "#00bfbc",
    "summary": "#00bfbc",
    "tldr": "#00bfbc",
    "tip": "#00bfbc",
    "hint": "#00bfbc",
    "important": "#00bfbc",
    "success": "#08b94e",
    "check": "#08b94e",
    "done": "#08b94e",
    "question": "#ec7500",
    "help": "#ec7500",
    "faq": "#ec7500",
    "warning": "#ec7500",
    "caution": "#ec7500",
    "attention": "#ec7500",
    "failure": "#e93147",
    "fail": "#e93147",
    "missing": "#e93147",
    "danger": "#e93147",
    "error": "#e93147",
    "bug": "#e93147",
    "example": "#7852ee",
    "quote": "#9e9e9e",
    "cite": "#9e9e9e",
}
_DEFAULT_COLOUR = "#086ddd"
_DATA_TABLE = (
    '<table border="1" cellspacing="0" cellpadding="4" '
    'style="border-collapse:collapse; border-color:#8c8c8c; margin-top:4px; margin-bottom:8px">'
)
_KEY_COLOUR = "#808080"
"""Property names: a grey that reads on light and dark backgrounds alike."""


@dataclass(frozen=True)
class RenderedNote:
    """A note's safe HTML and whether it holds back remote images."""

    html: str
    has_remote_content: bool = False
    remote_urls: tuple[str, ...] = field(default_factory=tuple)


def _split_link(inner: str) -> tuple[str, str, str]:
    """``target#heading|alias`` as (target note, heading or block, text shown)."""
    target, _, alias = inner.partition("|")
    note, _, fragment = target.strip().partition("#")
    note, fragment = note.strip(), fragment.strip()
    shown = alias.strip()
    if not shown:
        shown = note
        if fragment:
            heading = fragment.removeprefix("^")
            shown = f"{note} › {heading}" if note else heading
    return note, fragment, shown


def wikilink_href(note: str, fragment: str = "") -> str:
    """The relative link a wikilink becomes (``Note%20name#Heading``); the reader resolves it."""
    href = quote(note, safe="/")
    if fragment:
        href += "#" + quote(fragment, safe="^")
    return href


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] not in "![" or not (
        state.src.startswith("[[", state.pos) or state.src.startswith("![[", state.pos)
    ):
        return False
    match = _WIKILINK.match(state.src, state.pos)
    if match is None:
        return False
    note, fragment, shown = _split_link(match.group(2))
    if not note and not fragment:
        return False
    if not silent:
        token = state.push("wikilink", "a", 0)
        token.content = shown
        token.meta = {"note": note, "fragment": fragment, "embed": bool(match.group(1))}
    state.pos = match.end()
    return True


def _render_wikilink(
    _renderer: RendererHTML, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    meta = tokens[idx].meta
    shown = html.escape(tokens[idx].content)
    href = html.escape(wikilink_href(meta["note"], meta["fragment"]), quote=True)
    if not meta["embed"]:
        return f'<a href="{href}">{shown}</a>'
    if meta["note"].lower().endswith(_IMAGE_SUFFIXES):
        return f"<i>[image: {shown}]</i>"  # attachments are never read from the disk
    return f'<i>Embedded: <a href="{href}">{shown}</a></i>'


def _callouts_rule(state: StateCore) -> None:
    """Mark ``> [!type] Title`` quotes as callouts and take their first line away."""
    tokens = state.tokens
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (
            token.type == "blockquote_open"
            and i + 2 < len(tokens)
            and tokens[i + 1].type == "paragraph_open"
            and tokens[i + 2].type == "inline"
        ):
            inline = tokens[i + 2]
            first, _, rest = inline.content.partition("\n")
            match = _CALLOUT.match(first.strip())
            if match is not None:
                token.meta = {
                    "callout": match.group(1).lower(),
                    "fold": match.group(2),
                    "title": match.group(3).strip(),
                }
                if rest.strip():
                    inline.content = rest
                else:
                    del tokens[i + 1 : i + 4]  # the paragraph held only the title line
        i += 1


def _tasks_rule(state: StateCore) -> None:
    """``- [ ] task`` and ``- [x] done`` as check boxes."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if (
            token.type == "inline"
            and i >= 2
            and tokens[i - 1].type == "paragraph_open"
            and tokens[i - 2].type == "list_item_open"
            and token.children
            and token.children[0].type == "text"
        ):
            first = token.children[0]
            match = _TASK.match(first.content)
            if match is not None:
                box = "☐" if match.group(1) == " " else "☑"
                first.content = f"{box} " + first.content[match.end() :]


def _callout_title_html(md: MarkdownIt, meta: Mapping[str, str]) -> str:
    title = meta["title"]
    if not title:
        return html.escape(meta["callout"].capitalize())
    return sanitize_html(md.renderInline(title)).html


def _render_nested_callout(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A callout inside a list or a quote: a quote that starts with its title in bold."""
    meta = tokens[idx].meta
    if "callout" not in meta:
        return renderer.renderToken(tokens, idx, options, env)
    return f"<blockquote><p><b>{_callout_title_html(_markdown(), meta)}</b></p>"


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True})
    md.enable(["table", "strikethrough"])
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.core.ruler.after("block", "callouts", _callouts_rule)
    md.core.ruler.after("inline", "tasks", _tasks_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("blockquote_open", _render_nested_callout)
    return md


class _Collector:
    """Sanitises each stretch of rendered note HTML and remembers the remote images."""

    def __init__(self) -> None:
        self.remote: list[str] = []

    def safe(self, raw: str) -> str:
        result = sanitize_html(raw)
        self.remote.extend(u for u in result.remote_urls if u not in self.remote)
        # A Markdown table is data: give it rules and room (sanitised tables carry no
        # attributes of their own, so only FocusDesk's are added here).
        return result.html.replace("<table>", _DATA_TABLE)


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _callout_html(meta: Mapping[str, str], inner: str) -> str:
    """FocusDesk's frame around a callout: a coloured stripe, a tinted box, the title."""
    colour = _CALLOUT_COLOURS.get(meta["callout"], _DEFAULT_COLOUR)
    title = _callout_title_html(_markdown(), meta)
    fold = {"+": " ▾", "-": " ▸"}.get(meta["fold"], "")
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" '
        f'style="margin-top:6px; margin-bottom:10px; background-color:{_rgba(colour, 0.1)}">'
        f'<tr><td width="4" style="background-color:{colour}"></td>'
        f'<td><p style="margin-top:0; margin-bottom:4px"><b style="color:{colour}">'
        f"{title}</b>{fold}</p>{inner}</td></tr></table>"
    )


def _closing(tokens: Sequence[Token], start: int) -> int:
    """The index of the blockquote_close that ends the blockquote opened at ``start``."""
    level = tokens[start].level
    for j in range(start + 1, len(tokens)):
        if tokens[j].type == "blockquote_close" and tokens[j].level == level:
            return j
    return len(tokens)


def _render_blocks(tokens: list[Token], env: EnvType, out: _Collector) -> str:
    """Render a run of block tokens; callouts at this level get their own frame."""
    md = _markdown()
    parts: list[str] = []
    run: list[Token] = []
    base = tokens[0].level if tokens else 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "blockquote_open" and "callout" in token.meta and token.level == base:
            end = _closing(tokens, i)
            parts.append(out.safe(md.renderer.render(run, md.options, env)))
            run = []
            inner = _render_blocks(tokens[i + 1 : end], env, out)
            parts.append(_callout_html(token.meta, inner))
            i = end + 1
            continue
        run.append(token)
        i += 1
    parts.append(out.safe(md.renderer.render(run, md.options, env)))
    return "".join(parts)


# --- properties (front matter) ------------------------------------------------------


def _value_html(value: Any, out: _Collector) -> str:
    """One property value as HTML: wikilinks and web addresses become links."""
    if isinstance(value, bool):
        return "☑" if value else "☐"
    if isinstance(value, Mapping):
        return "; ".join(
            f"{html.escape(str(k))}: {_value_html(v, out)}" for k, v in value.items() if v
        )
    if isinstance(value, list | tuple):
        return ", ".join(_value_html(v, out) for v in value if v not in (None, "", [], {}))
    text = str(value)
    pieces: list[str] = []
    last = 0
    for match in _WIKILINK.finditer(text):
        pieces.append(html.escape(text[last : match.start()]))
        note, fragment, shown = _split_link(match.group(2))
        href = html.escape(wikilink_href(note, fragment), quote=True)
        pieces.append(f'<a href="{href}">{html.escape(shown)}</a>')
        last = match.end()
    rest = text[last:]
    if not pieces and re.fullmatch(r"https?://\S+", rest.strip()):
        url = html.escape(rest.strip(), quote=True)
        pieces.append(f'<a href="{url}">{html.escape(rest.strip())}</a>')
    else:
        pieces.append(html.escape(rest))
    return out.safe("".join(pieces))


def _properties_html(front_matter: Mapping[str, Any], out: _Collector) -> str:
    """The front matter as Obsidian shows it: a small table of the non-empty properties."""
    rows: list[str] = []
    for key, value in front_matter.items():
        if value in (None, "", [], {}) or key == "title":
            continue  # the title is the reader's heading already
        if key in ("tags", "tag", "aliases"):
            values = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
            prefix = "#" if key != "aliases" else ""
            shown = ", ".join(
                html.escape(prefix + str(v).lstrip("#")) for v in values if str(v).strip()
            )
        else:
            shown = _value_html(value, out)
        if not shown.strip():
            continue
        rows.append(
            f'<tr><td style="padding-right:14px"><span style="color:{_KEY_COLOUR}">'
            f"{html.escape(str(key))}</span></td><td>{shown}</td></tr>"
        )
    if not rows:
        return ""
    return (
        f'<p style="margin-bottom:2px"><span style="color:{_KEY_COLOUR}">Properties</span></p>'
        f'<table cellspacing="0" cellpadding="2" style="margin-bottom:10px">{"".join(rows)}</table>'
        "<hr/>"
    )


def split_front_matter(markdown: str) -> tuple[dict[str, Any] | None, str]:
    """A leading YAML front matter block as a mapping (None if absent or unreadable)."""
    match = _FRONT_MATTER.match(markdown)
    if match is None:
        return None, markdown
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        data = None
    rest = markdown[match.end() :]
    return (data if isinstance(data, dict) else {}), rest


def render_note(markdown: str, front_matter: Mapping[str, Any] | None = None) -> RenderedNote:
    """``markdown`` (a note's body) as safe HTML, its ``front_matter`` as properties.

    A body that still starts with its own front matter block has it read and taken
    away. Raises ValueError for a note too long to render (the reader shows its text).
    """
    if len(markdown) > MAX_RENDERED_CHARS:
        raise ValueError(f"the note is too long to format ({len(markdown):,} characters)")
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n")
    found, markdown = split_front_matter(markdown)
    properties = front_matter if front_matter else (found or {})
    markdown = _COMMENT.sub("", markdown)
    out = _Collector()
    env: EnvType = {}
    tokens = _markdown().parse(markdown, env)
    body = _render_blocks(tokens, env, out)
    head = _properties_html(properties, out) if isinstance(properties, Mapping) else ""
    return RenderedNote(
        html=head + body,
        has_remote_content=bool(out.remote),
        remote_urls=tuple(out.remote),
    )
