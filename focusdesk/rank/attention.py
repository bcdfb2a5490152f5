"""The multi-head goal attention scorer (DESIGN.md, "The attention scoring layer").

Every goal attends, per head, over an item's chunk embeddings; the attention-weighted
agreement per head is mixed into a goal relevance, and the goals are combined by a
soft maximum into the item's relevance. The attention weights are the explanation:
the best goal and the chunk it attended to most are shown with every item.

This module imports torch at module level; the rest of the app imports it lazily.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch  # noqa: TID253
import torch.nn.functional as F  # noqa: TID253
from safetensors.torch import load_file
from torch import Tensor, nn  # noqa: TID253

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_NORM_EPS = 1e-12


@dataclass(frozen=True)
class ScorerConfig:
    """Hyper-parameters of a `GoalAttentionScorer` (in ``RankingModel``'s config)."""

    dim: int
    heads: int = 4
    init_temperature: float = 0.1
    """Initial attention temperature tau_0 of every head (learned afterwards)."""
    goal_temperature: float = 0.05
    """Sharpness T of the soft maximum over goals (fixed; smaller is closer to max)."""

    def __post_init__(self) -> None:
        if self.dim <= 0:
            raise ValueError(f"dim must be positive, got {self.dim}")
        if self.heads <= 0 or self.dim % self.heads != 0:
            raise ValueError(f"heads ({self.heads}) must be positive and divide dim ({self.dim})")
        for name in ("init_temperature", "goal_temperature"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value}")

    @property
    def head_dim(self) -> int:
        """Dimensions per head, d / H."""
        return self.dim // self.heads


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Scores of B items against G goals, with the attention that explains them.

    Items with no real chunk have relevance 0, zero goal/head relevance and zero
    attention; their best goal and evidence are -1.
    """

    relevance: Tensor
    """[B] item relevance R: soft maximum over non-zero-weight goals of w_j * r_j."""
    goal_relevance: Tensor
    """[B, G] r_j = sum_h beta_h r_{j,h}, computed for every goal (weight 0 too)."""
    head_relevance: Tensor
    """[B, G, H] r_{j,h} = <q_{j,h}, o_{j,h}>."""
    attention: Tensor
    """[B, G, H, C] attention of goal j, head h over chunks; 0 at padded chunks."""
    goal_weights: Tensor
    """[G] the goal weights used."""
    head_weights: Tensor
    """[H] beta = softmax(head logits)."""
    has_chunks: Tensor
    """[B] bool: the item has at least one real chunk."""
    mask: Tensor
    """[B, C] bool: the real chunks (False at padding)."""

    def best_goal(self) -> Tensor:
        """[B] long: the goal contributing most to the soft maximum, -1 for empty items
        (`best_goal`)."""
        return best_goal(self.goal_relevance, self.goal_weights, self.has_chunks)

    def best_in_groups(self, owner: Tensor, n_groups: int) -> Tensor:
        """[B, n_groups] long: per group of goals, the goal that contributes most
        (`best_in_groups`)."""
        return best_in_groups(
            self.goal_relevance, self.goal_weights, self.has_chunks, owner, n_groups
        )

    def evidence(self, goals: Tensor | None = None, allowed: Tensor | None = None) -> Tensor:
        """The chunk a goal attends to most, -1 where there is none: [B] for ``goals`` [B]
        (default: `best_goal`), [B, K] for ``goals`` [B, K] (e.g. `best_in_groups`).

        Argmax over chunks of the goal's attention averaged over heads with the head
        weights beta; ties go to the lowest index. Only real chunks where ``allowed``
        [B, C] is True (default: every real chunk) can be the evidence; an item with
        none, or a goal of -1, has none.
        """
        if goals is None:
            goals = self.best_goal()
        single = goals.ndim == 1
        picks = goals[:, None] if single else goals  # [B, K]
        batch, n_chunks = self.attention.shape[0], self.attention.shape[-1]
        ok = self.mask if allowed is None else self.mask & allowed.to(self.mask.device)
        if n_chunks == 0:
            out = torch.full(picks.shape, -1, dtype=torch.long, device=self.attention.device)
            return out[:, 0] if single else out
        rows = torch.arange(batch, device=self.attention.device)[:, None]
        per_head = self.attention[rows, picks.clamp_min(0)]  # [B, K, H, C]
        mixed = torch.einsum("bkhc,h->bkc", per_head, self.head_weights)
        mixed = mixed.masked_fill(~ok[:, None, :], -1.0)  # attention is >= 0
        found = (picks >= 0) & ok.any(dim=-1)[:, None]
        out = torch.where(found, mixed.argmax(dim=-1), -1)
        return out[:, 0] if single else out


class GoalAttentionScorer(nn.Module):
    """Scores items (padded chunk embeddings) against weighted goals by attention.

    Parameters: ``proj_q`` and ``proj_k`` (P_q, P_k, d x d, identity at start),
    ``log_temperature`` (log tau_h per head, log tau_0 at start) and ``head_logits``
    (beta logits, zero at start so the heads are mixed uniformly). Untrained, with
    one head and one chunk, the relevance is the cosine similarity of goal and chunk.
    """

    def __init__(
        self,
        dim: int,
        heads: int = 4,
        init_temperature: float = 0.1,
        goal_temperature: float = 0.05,
    ) -> None:
        super().__init__()
        self.config = ScorerConfig(dim, heads, init_temperature, goal_temperature)
        self.proj_q = nn.Parameter(torch.empty(dim, dim))
        self.proj_k = nn.Parameter(torch.empty(dim, dim))
        self.log_temperature = nn.Parameter(torch.empty(heads))
        self.head_logits = nn.Parameter(torch.empty(heads))
        self.reset_parameters()

    @classmethod
    def from_config(cls, config: ScorerConfig | Mapping[str, Any]) -> GoalAttentionScorer:
        """Build an untrained scorer from a `ScorerConfig` or its dict form."""
        values = asdict(config) if isinstance(config, ScorerConfig) else dict(config)
        return cls(**values)

    def get_config_dict(self) -> dict[str, Any]:
        """The constructor arguments (``RankingModel.get_config_dict`` keeps them)."""
        return asdict(self.config)

    def reset_parameters(self) -> None:
        """Return to the untrained state (identity projections, tau_0, uniform beta)."""
        with torch.no_grad():
            nn.init.eye_(self.proj_q)
            nn.init.eye_(self.proj_k)
            self.log_temperature.fill_(math.log(self.config.init_temperature))
            self.head_logits.zero_()

    @property
    def temperatures(self) -> Tensor:
        """[H] per-head attention temperatures tau_h."""
        return self.log_temperature.exp()

    @property
    def head_weights(self) -> Tensor:
        """[H] head mixing weights beta."""
        return torch.softmax(self.head_logits, dim=-1)

    def _split_normalise(self, x: Tensor) -> Tensor:
        heads, head_dim = self.config.heads, self.config.head_dim
        return F.normalize(x.unflatten(-1, (heads, head_dim)), dim=-1, eps=_NORM_EPS)

    def project_goals(self, goals: Tensor) -> Tensor:
        """[G, d] goal embeddings -> [G, H, d/H] projected, per-head unit queries."""
        _check_last_dim("goals", goals, 2, self.config.dim)
        return self._split_normalise(goals.to(self.proj_q) @ self.proj_q)

    def project_keys(self, chunks: Tensor, mask: Tensor | None = None) -> Tensor:
        """[B, C, d] chunk embeddings -> [B, C, H, d/H] projected, per-head unit keys.

        The result may be cached and passed to `score_projected` as long as P_k does
        not change (recompute after training, `reset_parameters` or `load`). With
        ``mask``, padded chunks become zero keys, whatever their values.
        """
        _check_last_dim("chunks", chunks, 3, self.config.dim)
        chunks = chunks.to(self.proj_k)
        if mask is not None:
            _check_mask(mask, chunks.shape[:2])
            chunks = torch.where(mask.to(chunks.device, torch.bool)[..., None], chunks, 0.0)
        return self._split_normalise(chunks @ self.proj_k)

    def forward(
        self, goals: Tensor, goal_weights: Tensor, chunks: Tensor, mask: Tensor
    ) -> ScoreResult:
        """Score B items against G goals.

        goals [G, d], goal_weights [G] (weight 0 excludes a goal), chunks [B, C, d]
        padded, mask [B, C] bool (True = real chunk). Raises ValueError when there is
        no goal or every goal has weight 0.
        """
        return self.score_projected(
            self.project_goals(goals), goal_weights, self.project_keys(chunks, mask), mask
        )

    def score_projected(
        self, queries: Tensor, goal_weights: Tensor, keys: Tensor, mask: Tensor
    ) -> ScoreResult:
        """Score from `project_goals` queries [G, H, d/H] and `project_keys` keys.

        The one place the scoring math lives; `forward` projects and calls it.
        """
        heads, head_dim = self.config.heads, self.config.head_dim
        if queries.ndim != 3 or queries.shape[1:] != (heads, head_dim):
            raise ValueError(f"queries must be [G, {heads}, {head_dim}], got {list(queries.shape)}")
        if keys.ndim != 4 or keys.shape[2:] != (heads, head_dim):
            raise ValueError(f"keys must be [B, C, {heads}, {head_dim}], got {list(keys.shape)}")
        n_goals = queries.shape[0]
        if n_goals == 0:
            raise ValueError("cannot score without goals")
        if goal_weights.shape != (n_goals,):
            raise ValueError(f"goal_weights must be [{n_goals}], got {list(goal_weights.shape)}")
        _check_mask(mask, keys.shape[:2])
        goal_weights = goal_weights.to(self.proj_q)
        active = goal_weights != 0
        if not bool(active.any()):
            raise ValueError("every goal has weight 0")
        queries = queries.to(self.proj_q)
        mask = mask.to(keys.device, torch.bool)
        has_chunks = mask.any(dim=-1)  # [B]
        keys = torch.where(mask[:, :, None, None], keys.to(self.proj_k), 0.0)

        # Written out rather than with scaled_dot_product_attention: SDPA does not
        # return the attention weights, which are the explanation, and with G*H
        # (goals x heads) usually below d the [B, G, H, C] weights are smaller than
        # the keys, so a fused kernel would save little. A test pins equality with
        # SDPA (1/tau_h folded into q, scale=1).
        # Cosines <q_{j,h}, k_{c,h}>: [B, G, H, C].
        sim = torch.einsum("ghe,bche->bghc", queries, keys)
        # An item with no real chunk attends uniformly over its zero keys (keeps the
        # softmax finite, gradients included); its attention is zeroed below.
        live = (mask | ~has_chunks[:, None])[:, None, None, :]
        logits = (sim / self.temperatures[:, None]).masked_fill(~live, -math.inf)
        attention = torch.softmax(logits, dim=-1) * has_chunks[:, None, None, None]
        # r_{j,h} = <q, sum_c a_c k_c> = sum_c a_c <q, k_c>: the value product of
        # attention is folded into the cosines already computed.
        head_relevance = (attention * sim).sum(dim=-1)  # [B, G, H]
        beta = self.head_weights
        goal_relevance = head_relevance @ beta  # [B, G]

        relevance = soft_maximum(
            goal_relevance, goal_weights, self.config.goal_temperature, has_chunks
        )
        return ScoreResult(
            relevance=relevance,
            goal_relevance=goal_relevance,
            head_relevance=head_relevance,
            attention=attention,
            goal_weights=goal_weights,
            head_weights=beta,
            has_chunks=has_chunks,
            mask=mask,
        )

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> GoalAttentionScorer:
        """Read a scorer from ``config.json`` + ``model.safetensors`` in ``folder`` (the
        layout of versions saved before the one ranking model, ``rank/model_versions.py``),
        on the CPU; the caller moves it with `.to`."""
        path = Path(folder)
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        model = cls.from_config(config)
        model.load_state_dict(load_file(str(path / WEIGHTS_FILE), device="cpu"))
        return model


def soft_maximum(
    goal_relevance: Tensor, goal_weights: Tensor, temperature: float, has_chunks: Tensor
) -> Tensor:
    """[B] the item relevance R from [B, G] goal relevances: T*logsumexp(w r / T) - T*log(G')
    over the G' goals with non-zero weight (equals w*r for one goal and the common value
    for equal ones); 0 for items without chunks (``has_chunks`` [B] False)."""
    active = goal_weights != 0
    scaled = (goal_weights * goal_relevance / temperature).masked_fill(~active, -math.inf)
    n_active = active.sum().to(scaled.dtype)
    relevance = temperature * (torch.logsumexp(scaled, dim=-1) - torch.log(n_active))
    return torch.where(has_chunks, relevance, 0.0)


def _contribution(goal_relevance: Tensor, goal_weights: Tensor) -> Tensor:
    """[B, G] w_j * r_j, -inf for goals of weight 0 (they never win)."""
    active = goal_weights != 0
    return (goal_weights * goal_relevance).masked_fill(~active, -math.inf)


def best_goal(goal_relevance: Tensor, goal_weights: Tensor, has_chunks: Tensor) -> Tensor:
    """[B] long: the goal contributing most to the soft maximum, -1 for empty items.

    That is argmax_j of w_j * r_j over goals with non-zero weight (the soft maximum's
    weights softmax(w_j r_j / T) are largest there); ties go to the lowest index.
    """
    best = _contribution(goal_relevance, goal_weights).argmax(dim=-1)
    return torch.where(has_chunks, best, -1)


def best_in_groups(
    goal_relevance: Tensor, goal_weights: Tensor, has_chunks: Tensor, owner: Tensor, n_groups: int
) -> Tensor:
    """[B, n_groups] long: per group of goals (``owner`` [G]: each goal's group, e.g. the
    facets of one user goal), the goal that contributes most, as in `best_goal` (so the
    best goal's group gives the best goal); -1 for empty items or groups."""
    contrib = _contribution(goal_relevance, goal_weights)
    groups = torch.arange(n_groups, device=contrib.device)
    member = owner.to(contrib.device)[None, :] == groups[:, None]  # [n_groups, G]
    within = contrib[:, None, :].masked_fill(~member[None], -math.inf)  # [B, n_groups, G]
    best = within.argmax(dim=-1)
    found = torch.isfinite(within.amax(dim=-1)) & has_chunks[:, None]
    return torch.where(found, best, -1)


def _check_last_dim(name: str, x: Tensor, ndim: int, dim: int) -> None:
    if x.ndim != ndim or x.shape[-1] != dim:
        raise ValueError(f"{name} must have {ndim} dims ending in {dim}, got {list(x.shape)}")


def _check_mask(mask: Tensor, shape: torch.Size) -> None:
    if mask.shape != shape:
        raise ValueError(f"mask must be {list(shape)}, got {list(mask.shape)}")
