"""The one ranking model: the attention scorer, the learnt source and sender affinities
and the weight of the lexical prior, in one ``nn.Module`` (DESIGN.md, "One ranking
model").

The ranker scores with it and training trains it; ``rank/model_versions.py`` saves it as
one versioned folder and loads it back by version id. Its file form is a config dict
(``config.json``: the scorer's hyper-parameters and the affinities' key vocabularies) and
one safetensors file with every tensor (``state_dict``).

This module imports torch at module level; the rest of the app imports it lazily.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import torch  # noqa: TID253
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import Tensor, nn  # noqa: TID253

from focusdesk.rank.affinities import Priors
from focusdesk.rank.attention import GoalAttentionScorer, ScoreResult
from focusdesk.rank.lexical import LEXICAL_WEIGHT


class RankingModel(nn.Module):
    """Scorer + affinities + lexical weight: everything a learnt version changes.

    ``scorer`` is the `GoalAttentionScorer` (projections, per-head temperatures, head
    mixing; its goal temperature is in its config). ``source_bias`` [S] and
    ``sender_bias`` [N] are parameters aligned with ``source_keys`` (source ids) and
    ``sender_keys`` (normalised addresses, ``affinities.sender_key``); a key not in the
    vocabulary has affinity 0. ``lexical`` is a float64 buffer holding the weight of the
    lexical prior (exactly ``LEXICAL_WEIGHT`` untrained).
    """

    lexical: Tensor

    def __init__(
        self,
        scorer: GoalAttentionScorer,
        source_keys: Sequence[int] = (),
        sender_keys: Sequence[str] = (),
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> None:
        super().__init__()
        if len(set(source_keys)) != len(source_keys) or len(set(sender_keys)) != len(sender_keys):
            raise ValueError("affinity keys must be unique")
        self.scorer = scorer
        self.source_keys: list[int] = [int(k) for k in source_keys]
        self.sender_keys: list[str] = [str(k) for k in sender_keys]
        self._source_at = {k: n for n, k in enumerate(self.source_keys)}
        self._sender_at = {k: n for n, k in enumerate(self.sender_keys)}
        self.source_bias = nn.Parameter(torch.zeros(len(self.source_keys)))
        self.sender_bias = nn.Parameter(torch.zeros(len(self.sender_keys)))
        self.register_buffer("lexical", torch.tensor(float(lexical_weight), dtype=torch.float64))

    # -- building ------------------------------------------------------------------------
    @classmethod
    def untrained(cls, scorer: GoalAttentionScorer) -> RankingModel:
        """The untrained model around ``scorer``: no affinity, the default lexical weight."""
        return cls(scorer)

    @classmethod
    def from_priors(cls, scorer: GoalAttentionScorer, priors: Priors) -> RankingModel:
        """A model from a scorer and affinities kept apart (the layout before this module)."""
        sources = sorted(priors.source_bias)
        senders = sorted(priors.sender_bias)
        model = cls(scorer, sources, senders, priors.lexical_weight)
        with torch.no_grad():
            model.source_bias.copy_(torch.tensor([priors.source_bias[k] for k in sources]))
            model.sender_bias.copy_(torch.tensor([priors.sender_bias[k] for k in senders]))
        return model

    def fresh_copy(
        self, source_keys: Sequence[int] | None = None, sender_keys: Sequence[str] | None = None
    ) -> RankingModel:
        """A copy of the scorer's parameters with affinities at zero for these keys and the
        default lexical weight: where a training run starts."""
        scorer = GoalAttentionScorer.from_config(self.scorer.get_config_dict())
        scorer.load_state_dict(self.scorer.state_dict())
        return RankingModel(scorer, source_keys or (), sender_keys or ())

    # -- what the ranker and training use ---------------------------------------------------
    @property
    def lexical_weight(self) -> float:
        """The weight of the lexical prior (BM25 strength of the goal's words)."""
        return float(self.lexical)

    def set_lexical_weight(self, weight: float) -> None:
        """Set the learnt weight of the lexical prior."""
        self.lexical.fill_(float(weight))

    def priors(self) -> Priors:
        """The affinities as plain dicts (what the ranker adds per item)."""
        return Priors(
            dict(zip(self.source_keys, self.source_bias.detach().tolist(), strict=True)),
            dict(zip(self.sender_keys, self.sender_bias.detach().tolist(), strict=True)),
            self.lexical_weight,
        )

    def source_index(self, source_ids: Sequence[int]) -> Tensor:
        """[N] long: each source's position in the vocabulary, -1 for one not in it."""
        return torch.tensor([self._source_at.get(int(s), -1) for s in source_ids], dtype=torch.long)

    def sender_index(self, senders: Sequence[str]) -> Tensor:
        """[N] long: each sender's position in the vocabulary, -1 for none or unknown."""
        return torch.tensor(
            [self._sender_at.get(s, -1) if s else -1 for s in senders], dtype=torch.long
        )

    def source_affinity(self, source_ix: Tensor) -> Tensor:
        """[N] each item's source affinity (positions from ``source_index``; -1: 0)."""
        return _pick(self.source_bias, source_ix)

    def sender_affinity(self, sender_ix: Tensor) -> Tensor:
        """[N] each item's sender affinity (positions from ``sender_index``; -1: 0)."""
        return _pick(self.sender_bias, sender_ix)

    def item_score(self, relevance: Tensor, source_ix: Tensor, sender_ix: Tensor) -> Tensor:
        """[N] relevance R plus the items' learnt source and sender affinities (the part
        of the score that training shapes with the scorer; ``rank/ranker.py`` adds the
        lexical, recency and redundancy priors)."""
        return relevance + self.source_affinity(source_ix) + self.sender_affinity(sender_ix)

    def forward(
        self, goals: Tensor, goal_weights: Tensor, chunks: Tensor, mask: Tensor
    ) -> ScoreResult:
        """The scorer's relevance and attention of B items against G goals (see
        `GoalAttentionScorer.forward`); ``item_score`` adds the affinities per item."""
        result: ScoreResult = self.scorer(goals, goal_weights, chunks, mask)
        return result

    # -- file form ---------------------------------------------------------------------------
    def get_config_dict(self) -> dict[str, Any]:
        """The scorer's hyper-parameters and the affinities' vocabularies (``config.json``)."""
        return {
            "scorer": self.scorer.get_config_dict(),
            "source_keys": self.source_keys,
            "sender_keys": self.sender_keys,
        }

    def config_bytes(self) -> bytes:
        """``config.json``'s content."""
        return json.dumps(self.get_config_dict(), indent=2, sort_keys=True).encode("utf-8")

    def weights_bytes(self) -> bytes:
        """``model.safetensors``'s content: every parameter and buffer."""
        tensors = {k: t.detach().cpu().contiguous() for k, t in self.state_dict().items()}
        return bytes(save_tensors(tensors))

    @classmethod
    def from_bytes(cls, config: bytes, weights: bytes) -> RankingModel:
        """A model from the content of ``config.json`` and ``model.safetensors`` (on the
        CPU). Raises ValueError (or KeyError, RuntimeError from torch) when they do not
        describe one."""
        data = json.loads(config.decode("utf-8"))
        if not isinstance(data, Mapping) or not isinstance(data.get("scorer"), Mapping):
            raise ValueError("config.json does not describe a ranking model")
        scorer = GoalAttentionScorer.from_config(data["scorer"])
        model = cls(scorer, data.get("source_keys", []), data.get("sender_keys", []))
        model.load_state_dict(load_tensors(weights))
        return model


def _pick(values: Tensor, ix: Tensor) -> Tensor:
    """values[ix], 0 where ix < 0 (also for an empty vocabulary)."""
    if values.numel() == 0:
        return torch.zeros(ix.shape, dtype=values.dtype)
    return torch.where(ix >= 0, values[ix.clamp_min(0)], values.new_zeros(()))
