"""Hypothesis strategies and checks shared by the parser fuzz tests (issue 16).

Inputs mix ordinary text with what third-party files really hold: lone surrogates,
NULs, byte-order marks, mixed line endings, markup fragments, deep nesting and
truncation. The example budget is fixed and derandomized so CI runs the same cases
in a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Derandomized, no database, no deadline (a loaded 2-core CI is slow); the time bound is
# checked explicitly on crafted worst cases instead.
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Seconds a ≤ 1 MB input may take on a loaded CI machine (they take well under 2 s here).
TIME_BOUND_S = 6.0

SPECIALS = [
    "\ud800",
    "\udfff",
    "\udc80",
    "\x00",
    "\ufeff",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "\t",
    "\x0b",
    "&#xD800;",
    "&#55296;",
    "&#x110000;",
    "&#0;",
    "&nbsp;",
    "&bogus;",
    "&amp;",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "%%",
    "<",
    ">",
    "&",
    '"',
    "'",
    "\\",
    "é",
    "中文",
    "😀",
]

special_text = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(SPECIALS)), max_size=12
).map("".join)


def truncated(doc: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """The document, or the document cut at any byte."""
    return doc.flatmap(lambda d: st.one_of(st.just(d), st.integers(0, len(d)).map(lambda n: d[:n])))


def encoded(text: str) -> bytes:
    """UTF-8, lone surrogates written as the (invalid) bytes they would be."""
    return text.encode("utf-8", "surrogatepass")


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string in ``value`` (nested containers, dataclass fields) has one."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if any("\ud800" <= ch <= "\udfff" for ch in v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            stack.extend(v)
        elif hasattr(v, "__dataclass_fields__"):
            stack.extend(getattr(v, name) for name in v.__dataclass_fields__)
    return False


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()``'s result (or the exception it raised) and the seconds it took."""
    start = time.perf_counter()
    try:
        result: Any = call()
    except Exception as exc:
        result = exc
    return result, time.perf_counter() - start
