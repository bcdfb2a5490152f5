"""Fuzzing the HTML sanitiser and the text cleaning (issue 16).

Properties: neither ever raises; the sanitiser's output keeps its promises (no script,
no event handler, no style, no remote load, see ``test_html_safe.assert_safe``) on any
input, lone surrogates included; cleaned text holds no lone surrogate; a 1 MB input
takes bounded time.
"""

from __future__ import annotations

import pytest
from fuzz_inputs import FUZZ, TIME_BOUND_S, has_lone_surrogate, special_text, timed
from hypothesis import given
from hypothesis import strategies as st
from test_html_safe import VECTORS, assert_safe

from focusdesk.sources.html_safe import sanitize_html
from focusdesk.sources.text import (
    clean_for_ranking,
    html_to_text,
    normalise_whitespace,
    strip_quoted_reply,
    strip_signature,
)

TAGS = ["<div>", "</div>", "<p>", "<b>", "<table><tr><td>", "<ul><li>", "<pre>", "<br>"]
html_text = st.lists(st.one_of(special_text, st.sampled_from(TAGS + VECTORS)), max_size=20).map(
    "".join
)


@FUZZ
@given(html_text, st.sampled_from([None, "https://example.org/a/", "javascript:x"]))
def test_the_sanitiser_keeps_its_promises_on_any_input(html: str, base: str | None) -> None:
    out = sanitize_html(html, base_url=base)
    assert_safe(out)
    assert not has_lone_surrogate(out.html)
    assert_safe(sanitize_html(out.html))


MAIL_TEXT = ["> ", ">> ", "On Mon, Ann wrote:\n", "-- \n", "--\n", "Sent from my phone", "|> "]
plain_text = st.lists(st.one_of(special_text, st.sampled_from(MAIL_TEXT)), max_size=25).map("".join)


@FUZZ
@given(st.one_of(html_text, plain_text))
def test_text_cleaning_never_raises_nor_emits_lone_surrogates(text: str) -> None:
    for clean in (html_to_text, normalise_whitespace, clean_for_ranking):
        assert not has_lone_surrogate(clean(text))
    for keep_lines in (strip_quoted_reply, strip_signature):
        out = keep_lines(text)  # line filters: they add nothing to their input
        assert isinstance(out, str)
        assert has_lone_surrogate(text) or not has_lone_surrogate(out)


WORST_HTML = {
    "a 1 MB line": "<p>" + "word " * 200_000 + "</p>",
    "100,000 nested div": "<div>" * 100_000 + "x",  # took 18 s at 50,000 before the cap
    "150,000 nested span": "<span>" * 150_000 + "x",
    "unclosed tag openers": "<a<a" * 250_000,
    "comment openers": "<!--" * 250_000,
    "surrogates and NULs": "a\ud800\x00" * 300_000,
    "scripts": "<script>alert(1)</script>" * 40_000,
}


@pytest.mark.parametrize("name", sorted(WORST_HTML))
def test_worst_case_html_is_cleaned_in_bounded_time(name: str) -> None:
    html = WORST_HTML[name]
    assert len(html) <= 1_100_000
    out, seconds = timed(lambda: sanitize_html(html))
    if isinstance(out, BaseException):
        raise out
    assert_safe(out)
    text, text_seconds = timed(lambda: html_to_text(out.html))
    if isinstance(text, BaseException):
        raise text
    assert seconds < TIME_BOUND_S, f"{name}: {seconds:.1f} s to sanitise"
    assert text_seconds < TIME_BOUND_S, f"{name}: {text_seconds:.1f} s to text"
