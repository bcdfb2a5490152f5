"""The learnt additive affinities in plain Python: per source, per sender, and the weight
of the lexical prior. No torch here: the ranker reads them on every ranking, the learning
status compares two sets of them, and ``priors.json`` (the layout of versions saved before
the one ranking model, ``rank/model.py``) is read through them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from focusdesk.rank.lexical import LEXICAL_WEIGHT


@dataclass
class Priors:
    """Learned additive affinities: per source and per sender (normalised address), and
    the weight of the lexical prior (BM25 of the goal's words, ``rank/lexical.py``)."""

    source_bias: dict[int, float] = field(default_factory=dict)
    sender_bias: dict[str, float] = field(default_factory=dict)
    lexical_weight: float = LEXICAL_WEIGHT

    def save(self, path: Path) -> None:
        """Write them as ``priors.json`` (the layout before the one ranking model)."""
        payload = {
            "source_bias": {str(k): v for k, v in self.source_bias.items()},
            "sender_bias": self.sender_bias,
            "lexical_weight": self.lexical_weight,
        }
        path.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Priors:
        """Read a ``priors.json``; a version without one has the untrained affinities."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {int(k): float(v) for k, v in data.get("source_bias", {}).items()},
            {str(k): float(v) for k, v in data.get("sender_bias", {}).items()},
            float(data.get("lexical_weight", LEXICAL_WEIGHT)),
        )


def sender_key(author: str | None) -> str:
    """The sender an affinity is kept for: the address in 'Name <addr>', lower-cased."""
    if not author:
        return ""
    text = author.strip()
    if "<" in text and ">" in text:
        text = text[text.rindex("<") + 1 : text.rindex(">")]
    return text.strip().lower()
