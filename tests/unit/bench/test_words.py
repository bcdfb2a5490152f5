"""The generated text's words keep the chunker's token estimate predictable."""

from __future__ import annotations

from focusdesk.bench.words import FILLER, TOPIC_WORDS
from focusdesk.sources.chunking import estimate_tokens


def test_every_word_is_one_piece_to_the_chunkers_estimate() -> None:
    # Words of at most five letters: a paragraph of n words and f full stops is estimated
    # at ceil(1.1 n + f) tokens, which is how the generator keeps a passage one chunk.
    for word in FILLER + TOPIC_WORDS:
        assert word.isalpha(), word
        assert len(word) <= 5, word
    text = " ".join(FILLER + TOPIC_WORDS)
    assert estimate_tokens(text) == -(-11 * len(FILLER + TOPIC_WORDS) // 10)
