from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from focusdesk.sources.chunking import ChunkSpan, chunk_text, estimate_tokens


def words(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


# --- estimate_tokens -----------------------------------------------------------------


def test_estimate_tokens_basics() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("   ") == 0
    assert estimate_tokens("cat") == 2  # 1 word * 1.1, rounded up
    assert estimate_tokens("Hello, world.") == 5  # 2 words * 1.1 + 2 marks


def test_estimate_tokens_grows_with_long_numeric_and_foreign_words() -> None:
    assert estimate_tokens("internationalisation") > estimate_tokens("cat")
    assert estimate_tokens("1234567890") > estimate_tokens("abcdefghij") / 2
    assert estimate_tokens("\u4eba\u6a29\u306e\u7121\u8996") >= 5  # one piece per CJK char


def test_estimate_tokens_is_roughly_wordpiece_sized() -> None:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank."
    # BERT's tokenizer gives 14 pieces for this sentence.
    assert 14 <= estimate_tokens(sentence) <= 20


# --- chunk_text: behaviour ---------------------------------------------------------------


def test_empty_and_whitespace_give_no_chunks() -> None:
    assert chunk_text("") == []
    assert chunk_text(" \n\t\n ") == []


def test_short_text_is_one_chunk_with_original_offsets() -> None:
    text = "\n\n  Just one short paragraph.  \n"
    (chunk,) = chunk_text(text)
    assert chunk == ChunkSpan(4, 29, "Just one short paragraph.")
    assert text[chunk.start : chunk.end] == chunk.text


def test_small_paragraphs_are_packed_together() -> None:
    text = "First para.\n\nSecond para.\n\nThird para."
    assert [c.text for c in chunk_text(text, max_tokens=200)] == [text]


def test_paragraphs_split_when_they_do_not_fit() -> None:
    a, b = words(60, "alpha"), words(60, "beta")
    chunks = chunk_text(f"{a}\n\n{b}", max_tokens=100)
    assert [c.text for c in chunks] == [a, b]


def test_heading_starts_a_new_chunk() -> None:
    text = "Intro text.\n\n# Goals\nShip the beta.\n\n## Risks\nTime."
    assert [c.text for c in chunk_text(text)] == [
        "Intro text.",
        "# Goals\nShip the beta.",
        "## Risks\nTime.",
    ]


def test_hash_inside_code_fence_is_not_a_heading() -> None:
    text = "Setup:\n\n```sh\n# install it\npip install x\n```"
    assert [c.text for c in chunk_text(text)] == [text]


def test_long_paragraph_split_on_sentences() -> None:
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_text(text, max_tokens=50)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.endswith(".")  # cut at sentence ends, not mid-sentence
        assert estimate_tokens(chunk.text) <= 50


def test_long_sentence_split_on_words() -> None:
    text = words(300, "lorem")
    chunks = chunk_text(text, max_tokens=40)
    assert len(chunks) > 5
    assert all(c.text.split() == ["lorem"] * len(c.text.split()) for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 300


def test_giant_word_is_cut_into_pieces_that_fit() -> None:
    blob = "x" * 5000
    chunks = chunk_text(f"start {blob} end", max_tokens=50)
    assert "".join(c.text for c in chunks if "x" in c.text).count("x") == 5000
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)


def test_custom_token_counter_is_used() -> None:
    text = "a b c d e f g h"
    chunks = chunk_text(text, max_tokens=3, count_tokens=lambda s: len(s.split()))
    assert [c.text for c in chunks] == ["a b c", "d e f", "g h"]


def test_invalid_max_tokens() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("text", max_tokens=0)


def test_crlf_text_offsets() -> None:
    text = "One.\r\n\r\nTwo.\r\n"
    chunks = chunk_text(text, max_tokens=3)
    assert [c.text for c in chunks] == ["One.", "Two."]
    assert all(text[c.start : c.end] == c.text for c in chunks)


# --- chunk_text: properties ----------------------------------------------------------------

_pieces = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["\n", "\n\n", " \n \n", "# Heading\n", "## Sub\n", "```\n", ". ", "! ", "  "]),
    st.text(alphabet="abc .", min_size=1, max_size=120),
)
_texts = st.lists(_pieces, max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_texts, max_tokens=st.integers(min_value=1, max_value=80))
def test_chunk_properties(text: str, max_tokens: int) -> None:
    chunks = chunk_text(text, max_tokens=max_tokens)
    if not text.strip():
        assert chunks == []
        return
    covered = [False] * len(text)
    previous_end = 0
    for chunk in chunks:
        # in bounds, in order, non-overlapping
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.start >= previous_end
        previous_end = chunk.end
        # the text is the slice, with no surrounding whitespace
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        # within the budget, unless it is a single word (or character) that cannot fit
        if estimate_tokens(chunk.text) > max_tokens:
            assert len(chunk.text.split()) == 1
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    for i, char in enumerate(text):
        if not char.isspace():
            assert covered[i], f"character {char!r} at {i} is in no chunk"


@settings(max_examples=100, deadline=None)
@given(text=_texts)
def test_generous_budget_never_splits_a_paragraph(text: str) -> None:
    for chunk in chunk_text(text, max_tokens=10_000):
        assert estimate_tokens(chunk.text) <= 10_000


def test_token_spans_count_like_tokenizing_each_span() -> None:
    # One tokenization of the whole text (its offsets) cuts where counting each
    # candidate span on its own does, for a tokenizer that splits on whitespace.
    text = "\n\n".join(
        f"## Part {n}\n\n" + " ".join(f"word{n}x{k}" for k in range(7 * n + 3)) for n in range(9)
    )
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    for budget in (4, 11, 30, 1000):
        by_offsets = chunk_text(text, max_tokens=budget, token_spans=spans)
        by_text = chunk_text(text, max_tokens=budget, count_tokens=lambda s: len(s.split()))
        assert by_offsets == by_text
        assert all(len(c.text.split()) <= budget for c in by_offsets)


def test_a_token_cut_by_a_span_counts_on_both_sides() -> None:
    # One 12-character token: any piece of it counts one, so a cut word still fits.
    chunks = chunk_text("abcdefghijkl", max_tokens=1, token_spans=[(0, 12)])
    assert [c.text for c in chunks] == ["abcdefghijkl"]
