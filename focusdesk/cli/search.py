"""`focusdesk search QUERY`: hybrid keyword and semantic search, as in the desktop app."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser(
        "search",
        help="find items by keywords and meaning (BM25 and vectors, merged by rank)",
    )
    search.add_argument("query", nargs="+", metavar="QUERY", help="what to look for")
    search.add_argument("--top", type=int, default=20, metavar="K", help="how many (default 20)")
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    search.add_argument(
        "--keywords-only",
        action="store_true",
        help="skip the semantic part (no model is loaded)",
    )
    search.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk.errors import ModelError

    query = " ".join(args.query)
    try:
        hits = fd.search(query, max(0, args.top), semantic=not args.keywords_only)
    except ModelError as exc:  # keywords need no model: say so, and find by them
        print(f"focusdesk: {exc.user_text()}\nShowing keyword matches only.", file=sys.stderr)
        hits = fd.search(query, max(0, args.top), semantic=False)
    if args.json:
        for hit in hits:
            print(json.dumps(hit.to_json(), ensure_ascii=False))
        return 0
    if not hits:
        print(f"Nothing found for “{query}”.")
    for n, hit in enumerate(hits, 1):
        how = "+".join(
            name
            for name, rank in (("keywords", hit.keyword_rank), ("meaning", hit.vector_rank))
            if rank is not None
        )
        print(f"{n:>3}. [{hit.source_kind}] {hit.title[:80]}  ({how})")
        if hit.snippet:
            print(f"       {emphasise(hit.snippet, hit.snippet_spans)[:160]}")
    return 0


def emphasise(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The snippet with its matched words in *stars*, for a plain terminal."""
    out: list[str] = []
    pos = 0
    for a, b in spans:
        out.append(text[pos:a])
        out.append(f"*{text[a:b]}*")
        pos = b
    out.append(text[pos:])
    return "".join(out)
