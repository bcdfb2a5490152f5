"""Goal facets: the queries a goal is matched with.

A goal is often written as a theme and a list ("I build hobby electronics: power
supplies, op-amps, radar detectors and test equipment"). One embedding of the whole
sentence blurs the list; an item about radar detectors should match that facet
strongly. So a goal is queried with its whole text and, where it lists things, one
query per listed thing with the theme kept in front; a goal with a title and a
description also gets its title alone. The attention layer's soft maximum runs over
all of them, and the best facet is shown as part of the explanation.
"""

from __future__ import annotations

import re

_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bor\b|&)\s*", re.IGNORECASE)
_THEME_SPLIT = re.compile(r"\s*(?::|\s[-–—]\s)\s*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
MAX_FACETS = 12


def _list_facets(sentence: str) -> list[str]:
    parts = _THEME_SPLIT.split(sentence.strip(), maxsplit=1)
    if len(parts) != 2:
        return []
    theme, tail = parts[0].strip(), parts[1].strip().rstrip(".!?")
    things = [t.strip(" .") for t in _LIST_SPLIT.split(tail) if t.strip(" .")]
    if len(things) < 2 or not theme:
        return []
    return [f"{theme}: {thing}" for thing in things]


def goal_queries(title: str, description: str = "") -> list[str]:
    """The texts a goal is queried with: its full text first, then its facets."""
    title, description = title.strip(), description.strip()
    full = f"{title}. {description}" if description else title
    queries = [full]
    if description:
        queries.append(title)
    for sentence in _SENTENCE.split(full):
        queries.extend(_list_facets(sentence))
    seen: set[str] = set()
    unique = []
    for q in queries:
        key = q.casefold()
        if q and key not in seen:
            seen.add(key)
            unique.append(q)
    return unique[:MAX_FACETS] or [title or description or "(empty goal)"]
