"""Learning from the user: votes and implicit signals train the scorer and its priors.

Explicit votes (up/down) are strong labels; implicit signals are weaker ones (an open
read for a while, done: positive; dismissed: negative). A pairwise logistic ranking
loss asks every positive item to score above every negative one (and, more weakly,
above a sample of items the user never touched), training P_q, P_k, the head
temperatures and mixing weights, and per-source and per-sender affinities, all
regularised toward the untrained state. Each version is judged against the version in
use on the same held-out votes, and used unless it orders them worse by more than
chance (``rank/held_out.py``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import func, select

from focusdesk.progress import CancelToken
from focusdesk.rank.affinities import Priors
from focusdesk.rank.held_out import HeldOutComparison, compare_held_out
from focusdesk.rank.lexical import LEXICAL_WEIGHT
from focusdesk.rank.scoring import torch_threads
from focusdesk.store.db import Store
from focusdesk.store.models import Feedback, Item, ScorerVersion, Source

if TYPE_CHECKING:
    from focusdesk.rank.model import RankingModel
    from focusdesk.rank.scoring import ChunkLayout

log = logging.getLogger(__name__)


class Ranker(Protocol):
    """What learning needs of the ranker (``rank/ranker.py``): the profile's items and
    vectors, the goals' queries, the model in use, and where a new version goes."""

    store: Store

    @property
    def index(self) -> Any: ...

    @property
    def model(self) -> RankingModel: ...

    @property
    def priors(self) -> Priors: ...

    def layout(self) -> ChunkLayout: ...

    def item_meta(self, item_ids: Sequence[int]) -> dict[int, tuple[int, str]]: ...

    def lexical_matrix(self, goals: Sequence[Any], item_ids: np.ndarray) -> np.ndarray: ...

    def goal_queries_for_training(self) -> Any: ...

    def untrained_model(self) -> RankingModel: ...

    def save_version(
        self, model: RankingModel, n_votes: int, metrics: Mapping[str, object]
    ) -> int: ...

    def record_rejected(self, n_votes: int, metrics: Mapping[str, object]) -> None: ...


SIGNAL_LABELS: dict[str, tuple[float, float]] = {
    # signal: (label, weight)
    "up": (1.0, 1.0),
    "down": (-1.0, 1.0),
    "done": (1.0, 0.6),
    "open": (1.0, 0.3),  # only when read for at least OPEN_DWELL_SECONDS
    "dismiss": (-1.0, 0.5),
    "pin": (1.0, 0.8),
    "unsnooze": (1.0, 0.4),  # brought back before its time: wanted now
    "snooze": (-1.0, 0.15),  # "not now": a weak no
}
GOAL_VOTE_WEIGHT = 1.0
"""How much more a vote given for one goal trains that goal's own relevance."""
OPEN_DWELL_SECONDS = 20.0
UNLABELED_WEIGHT = 0.25
MIN_LABELS = 4


@dataclass(frozen=True)
class Label:
    item_id: int
    label: float  # +1 relevant, -1 not
    weight: float
    goal_id: int | None = None  # given for this goal (a goal filter or its focus window)


def learning_baseline(store: Any) -> int:
    """The last feedback id forgotten by "Reset learning" (0: none); later ones count."""
    with store.session() as s:
        rows = s.scalars(
            select(ScorerVersion.metrics)
            .where(ScorerVersion.n_votes == 0, ScorerVersion.accepted.is_(False))
            .order_by(ScorerVersion.id.desc())
        ).all()
    for metrics in rows:
        if metrics.get("reset"):
            return int(metrics.get("feedback_upto", 0))
    return 0


def last_feedback_id(store: Any) -> int:
    """The newest feedback row's id (0 when there is none)."""
    with store.session() as s:
        return int(s.scalar(select(func.max(Feedback.id))) or 0)


def collect_labels(ranker: Ranker) -> list[Label]:
    """One label per item: its latest explicit vote, else its strongest implicit signal.

    Feedback from before the last "Reset learning" is left out; so are items deleted
    since (their rows are gone) or vanished from their source. A later "unpin" takes
    back a pin. A vote's goal is kept when the goal still exists (a removed goal's
    votes count for every goal).
    """
    since = learning_baseline(ranker.store)
    with ranker.store.session() as s:
        rows = s.execute(
            select(Feedback.item_id, Feedback.signal, Feedback.value, Feedback.id, Feedback.goal_id)
            .join(Item, Item.id == Feedback.item_id)
            .where(Item.vanished.is_(False), Feedback.id > since)
            .order_by(Feedback.id)
        ).all()
    explicit: dict[int, Label] = {}
    implicit: dict[int, Label] = {}
    for item_id, signal, value, _, goal_id in rows:
        if signal == "unpin":
            prior = implicit.get(item_id)
            if prior is not None and prior.weight == SIGNAL_LABELS["pin"][1] and prior.label > 0:
                del implicit[item_id]
            continue
        if signal not in SIGNAL_LABELS:
            continue
        if signal == "open" and (value or 0.0) < OPEN_DWELL_SECONDS:
            continue
        label, weight = SIGNAL_LABELS[signal]
        target = explicit if signal in ("up", "down") else implicit
        prior = target.get(item_id)
        if target is explicit or prior is None or weight >= prior.weight:
            target[item_id] = Label(item_id, label, weight, goal_id)
    return list({**implicit, **explicit}.values())


@dataclass
class TrainResult:
    """What a training run did, in numbers and in words."""

    n_labels: int
    accepted: bool
    version_id: int | None
    metrics: dict[str, Any]
    message: str


def _held_out_bucket(item_id: int, seed: int) -> int:
    """A stable pseudo-random bucket 0..3 per item (Knuth's multiplicative hash)."""
    return ((item_id * 2654435761 + seed * 40503) % 2**32) >> 30


def _split(labels: Sequence[Label], seed: int) -> tuple[list[Label], list[Label]]:
    """About a quarter of the labelled items held out, positives and negatives alike.

    An item's side is fixed by its id, not drawn anew each run: the version in use was
    trained on the train side only, so comparing it with a new candidate on the held-out
    side judges both on items neither has seen.
    """
    train: list[Label] = []
    held: list[Label] = []
    for sign in (1.0, -1.0):
        group = [x for x in labels if x.label == sign]
        out = [x for x in group if _held_out_bucket(x.item_id, seed) == 0]
        if not out and len(group) >= 2:
            # Too few for the buckets to hold one out: the same item each time.
            out = [min(group, key=lambda x: (_held_out_bucket(x.item_id, seed), x.item_id))]
        if len(out) == len(group) and len(group) >= 2:
            out = out[:-1]  # keep one to learn from
        ids = {x.item_id for x in out}
        held += out
        train += [x for x in group if x.item_id not in ids]
    return train, held


TRAIN_THREADS = 1
"""Torch threads while training. Its steps are many small ops, where a second thread
gains little (1.1 s against 1.2 s for 1,000 signals on an idle 2-core machine) but,
when another process holds the other core, spins at every op's barrier: the same run
then took 11-18 s instead of 1.2-1.4 s."""


@dataclass(frozen=True)
class Scores:
    """What training needs of a ``ScoreResult``: R [B] and each goal's r [B, G]."""

    relevance: Any
    goal_relevance: Any


class ScorerTrainer:
    """Trains a new ranking model (scorer, affinities, lexical weight) on the collected
    labels, and saves it as a version when it does better held out."""

    def __init__(
        self,
        ranker: Ranker,
        *,
        steps: int = 80,
        pairs_per_step: int = 128,
        lr: float = 0.01,
        reg: float = 1.0,
        sharpness: float = 20.0,
        seed: int = 0,
    ) -> None:
        self.ranker = ranker
        self.steps = steps
        self.pairs_per_step = pairs_per_step
        self.lr = lr
        self.reg = reg
        self.sharpness = sharpness
        self.seed = seed

    # -- data ------------------------------------------------------------------------
    def _batch(self, item_ids: np.ndarray) -> dict[str, Any]:
        """The items' real chunk vectors (flat), where each item's rows are, and their
        source ids and senders. Padding is built per step, only for the items used."""
        import torch  # noqa: TID253

        layout = self.ranker.layout()
        index = self.ranker.index
        pos = {int(i): n for n, i in enumerate(layout.item_ids)}
        keep = [int(i) for i in dict.fromkeys(int(x) for x in item_ids) if int(i) in pos]
        starts, counts, flat = [], [], []
        total = 0
        for iid in keep:
            n = pos[iid]
            rows = layout.rows[layout.starts[n] : layout.starts[n] + layout.counts[n]]
            starts.append(total)
            counts.append(len(rows))
            flat.append(rows)
            total += len(rows)
        rows = np.concatenate(flat) if flat else np.zeros(0, np.int64)
        meta = self.ranker.item_meta(keep)
        return {
            "item_ids": keep,
            "flat": torch.from_numpy(np.ascontiguousarray(index.vectors[rows])),
            "starts": np.asarray(starts, np.int64),
            "counts": np.asarray(counts, np.int64),
            "sources": [meta[i][0] for i in keep],
            "senders": [meta[i][1] for i in keep],
        }

    @staticmethod
    def _score(
        model: Any, queries: Any, weights: Any, batch: dict[str, Any], items: np.ndarray
    ) -> Scores:
        """The scores (R and each goal's r) of the batch's items at positions ``items``:
        keys projected only for real chunks, then laid out padded for the attention, in
        buckets of items of similar chunk counts (widths 1, 2, 4, … chunks), so that an
        item with many chunks does not pad every other one to its width. Each item's
        score is its own, so the buckets give the same scores as one padded batch."""
        import torch  # noqa: TID253

        starts, counts = batch["starts"][items], batch["counts"][items]
        used = np.unique(
            np.concatenate([np.arange(st, st + c) for st, c in zip(starts, counts, strict=True)])
            if len(items)
            else np.zeros(0, np.int64)
        )
        keys_used = model.project_keys(batch["flat"][torch.from_numpy(used)][None])[0]
        remap = np.zeros(len(batch["flat"]), np.int64)
        remap[used] = np.arange(len(used))
        projected = model.project_goals(queries)
        width_class = np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64)
        parts, rel, goal_rel = [], [], []
        for cls in np.unique(width_class):
            part = np.flatnonzero(width_class == cls)
            width = max(1, int(counts[part].max()))
            offs = np.arange(width)[None, :]
            valid = offs < counts[part][:, None]
            rows = np.where(valid, starts[part][:, None] + offs, 0)
            keys = keys_used[torch.from_numpy(remap[rows])]
            result = model.score_projected(projected, weights, keys, torch.from_numpy(valid))
            parts.append(part)
            rel.append(result.relevance)
            goal_rel.append(result.goal_relevance)
        if not parts:
            result = model.score_projected(
                projected,
                weights,
                keys_used.new_zeros((0, 1, *keys_used.shape[1:])),
                torch.zeros((0, 1), dtype=torch.bool),
            )
            return Scores(result.relevance, result.goal_relevance)
        back = torch.from_numpy(np.argsort(np.concatenate(parts), kind="stable"))
        return Scores(torch.cat(rel)[back], torch.cat(goal_rel)[back])

    # -- training ----------------------------------------------------------------------
    def _fit(
        self, labels: Sequence[Label], unlabeled: np.ndarray, cancel: CancelToken | None
    ) -> tuple[RankingModel, float]:
        """A new ranking model trained from the untrained one on ``labels`` (and
        ``unlabeled`` items as weak negatives), and its last training loss."""
        import torch  # noqa: TID253

        base = self.ranker.untrained_model()
        init = {k: v.detach().clone() for k, v in base.scorer.state_dict().items()}
        gq = self.ranker.goal_queries_for_training()
        queries = torch.from_numpy(gq.vectors)
        weights = torch.from_numpy(gq.weights)

        ids = np.asarray([x.item_id for x in labels] + [int(i) for i in unlabeled], np.int64)
        batch = self._batch(ids)
        y = {x.item_id: x for x in labels}
        pos_idx, pos_w, neg_idx, neg_w = [], [], [], []
        for n, iid in enumerate(batch["item_ids"]):
            if iid in y and y[iid].label > 0:
                pos_idx.append(n)
                pos_w.append(y[iid].weight)
            else:
                neg_idx.append(n)
                neg_w.append(y[iid].weight if iid in y else UNLABELED_WEIGHT)
        if not pos_idx or not neg_idx:
            return base.fresh_copy().eval(), math.nan
        # Votes given for one goal also train that goal's own relevance r_g.
        goal_pos = {g.id: n for n, g in enumerate(gq.goals)}
        goal_ix = np.asarray(
            [
                goal_pos.get(y[iid].goal_id or -1, -1) if iid in y else -1
                for iid in batch["item_ids"]
            ],
            np.int64,
        )
        facets = torch.from_numpy(gq.owner)[None, :] == torch.arange(len(gq.goals))[:, None]
        # The lexical prior's weight, learnt in log space from where it starts, on the
        # whole score; the scorer and the affinities learn on their own part, so they do
        # not bend to make up for the prior (that cost the trained rankings on dev).
        lexical = torch.from_numpy(self._lexical(gq, batch["item_ids"]))
        log_lex0 = math.log(LEXICAL_WEIGHT)
        log_lex = torch.tensor(log_lex0, requires_grad=True)
        # The affinities start at zero for the sources and senders of these items.
        model = base.fresh_copy(
            sorted(set(batch["sources"])), sorted({s for s in batch["senders"] if s})
        )
        model.train()
        src_ix = model.source_index(batch["sources"])
        snd_ix = model.sender_index(batch["senders"])
        # A pair's weight is w_pos * w_neg, so pairs are sampled by drawing the positive
        # and the negative independently, each by its own weight.
        pos_arr, neg_arr = np.asarray(pos_idx), np.asarray(neg_idx)
        pos_p = np.asarray(pos_w) / np.sum(pos_w)
        neg_p = np.asarray(neg_w) / np.sum(neg_w)
        rng = np.random.default_rng(self.seed)
        opt = torch.optim.Adam([*model.parameters(), log_lex], lr=self.lr)
        loss_value = math.nan
        for _ in range(self.steps):
            if cancel is not None:
                cancel.raise_if_cancelled()
            k = min(self.pairs_per_step, len(pos_arr) * len(neg_arr))
            draw_p = rng.choice(pos_arr, size=k, p=pos_p)
            draw_n = rng.choice(neg_arr, size=k, p=neg_p)
            items, inverse = np.unique(np.concatenate([draw_p, draw_n]), return_inverse=True)
            opt.zero_grad()
            result = self._score(model.scorer, queries, weights, batch, items)
            it = torch.from_numpy(items)
            score = model.item_score(result.relevance, src_ix[it], snd_ix[it])
            pos_at, neg_at = torch.from_numpy(inverse[:k]), torch.from_numpy(inverse[k:])
            own_loss = torch.nn.functional.softplus(
                -self.sharpness * (score[pos_at] - score[neg_at])
            ).mean()
            rank_loss = own_loss
            whole = score.detach() + log_lex.exp() * lexical[it]  # only the weight learns here
            whole_loss = torch.nn.functional.softplus(
                -self.sharpness * (whole[pos_at] - whole[neg_at])
            ).mean()
            pair_goal = np.where(goal_ix[draw_p] >= 0, goal_ix[draw_p], goal_ix[draw_n])
            chosen = pair_goal >= 0
            if chosen.any():
                per_goal = (
                    result.goal_relevance[:, None, :].masked_fill(~facets[None], -math.inf)
                ).amax(dim=-1)  # [items, goals]: each goal's best facet
                g = torch.from_numpy(pair_goal[chosen])
                gdiff = (
                    per_goal[torch.from_numpy(inverse[:k][chosen]), g]
                    - per_goal[torch.from_numpy(inverse[k:][chosen]), g]
                )
                goal_loss = torch.nn.functional.softplus(-self.sharpness * gdiff).mean()
                rank_loss = rank_loss + GOAL_VOTE_WEIGHT * float(chosen.mean()) * goal_loss
            reg = (
                (model.source_bias**2).sum()
                + (model.sender_bias**2).sum()
                + (log_lex - log_lex0) ** 2
            )
            for name, param in model.scorer.named_parameters():
                reg = reg + ((param - init[name]) ** 2).sum()
            loss = rank_loss + whole_loss + self.reg * reg / max(1, len(labels))
            loss.backward()
            opt.step()
            # The pair loss of the whole score (the ranking's), plus the goals' part.
            loss_value = float((rank_loss - own_loss + whole_loss).detach())
        model.set_lexical_weight(float(log_lex.detach().exp()))
        return model.eval(), loss_value

    def _lexical(self, gq: Any, item_ids: Sequence[int]) -> np.ndarray:
        """[N] each item's lexical prior strength for its best-matching goal."""
        ids = np.asarray(item_ids, np.int64)
        if not len(ids):
            return np.zeros(0, np.float32)
        return self.ranker.lexical_matrix(gq.goals, ids).max(axis=1).astype(np.float32)

    def _held_out_scores(
        self, models: Sequence[RankingModel], labels: Sequence[Label], unlabeled: np.ndarray
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Each ranking model's whole scores (priors included) of the held-out items, which
        of them are relevant, and their weights; in the order of the labels, then the
        unlabeled items (weak negatives). The items, the goals' queries and the lexical
        strengths are read once for all the models."""
        import torch  # noqa: TID253

        gq = self.ranker.goal_queries_for_training()
        ids = np.asarray([x.item_id for x in labels] + [int(i) for i in unlabeled], np.int64)
        batch = self._batch(ids)
        lexical = self._lexical(gq, batch["item_ids"])
        scores = []
        for model in models:
            priors = model.priors()
            with torch.inference_mode():
                rel = self._score(
                    model.scorer,
                    torch.from_numpy(gq.vectors),
                    torch.from_numpy(gq.weights),
                    batch,
                    np.arange(len(batch["item_ids"])),
                ).relevance.numpy()
            source = [priors.source_bias.get(src, 0.0) for src in batch["sources"]]
            sender = [priors.sender_bias.get(snd, 0.0) for snd in batch["senders"]]
            scores.append(
                rel.astype(np.float64)
                + np.asarray(source, np.float64)
                + np.asarray(sender, np.float64)
                + priors.lexical_weight * lexical
            )
        y = {x.item_id: x for x in labels}
        ids_ = batch["item_ids"]
        is_pos = np.asarray([i in y and y[i].label > 0 for i in ids_], bool)
        w = np.asarray([y[i].weight if i in y else UNLABELED_WEIGHT for i in ids_], np.float64)
        return scores, is_pos, w

    def _compare(
        self,
        current: RankingModel,
        candidate: RankingModel,
        labels: Sequence[Label],
        unlabeled: np.ndarray,
    ) -> HeldOutComparison:
        """The version in use and the candidate, judged on the same held-out pairs."""
        if not labels:
            return compare_held_out(
                np.zeros(0), np.zeros(0), np.zeros(0, bool), np.zeros(0), self.sharpness
            )
        (score_current, score_new), is_pos, w = self._held_out_scores(
            [current, candidate], labels, unlabeled
        )
        return compare_held_out(score_current, score_new, is_pos, w, self.sharpness)

    def train(self, cancel: CancelToken | None = None) -> TrainResult:
        """Train on all feedback; use the new version unless it does worse held out, by
        more than the held-out votes' own noise."""
        from focusdesk.rank.learning_status import describe_changes, percent

        started = time.perf_counter()
        upto = last_feedback_id(self.ranker.store)
        labels = [x for x in collect_labels(self.ranker)]
        n_pos = sum(1 for x in labels if x.label > 0)
        if len(labels) < MIN_LABELS or n_pos == 0:
            return TrainResult(
                len(labels),
                False,
                None,
                {"feedback_upto": upto},
                (
                    f"Not enough feedback to learn from yet ({len(labels)} labelled items, "
                    f"{n_pos} positive; at least {MIN_LABELS} with one positive are needed)."
                ),
            )
        rng = np.random.default_rng(self.seed)
        layout = self.ranker.layout()
        labelled = {x.item_id for x in labels}
        pool = np.asarray([i for i in layout.item_ids if int(i) not in labelled], np.int64)
        sample = (
            rng.choice(pool, size=min(len(pool), max(40, 4 * len(labels))), replace=False)
            if len(pool)
            else pool
        )
        half = len(sample) // 2
        train_unl, held_unl = sample[:half], sample[half:]
        train, held = _split(labels, self.seed)
        current = self.ranker.model
        old_priors = self.ranker.priors
        with torch_threads(TRAIN_THREADS):
            candidate, train_loss = self._fit(train, train_unl, cancel)
            judged = self._compare(current, candidate, held, held_unl)
        better = judged.accepted
        current_acc, new_acc = judged.accuracy_current, judged.accuracy_new
        with self.ranker.store.session() as s:
            names = {int(i): str(n) for i, n in s.execute(select(Source.id, Source.name)).all()}
        changes = describe_changes(current_acc, new_acc, old_priors, candidate.priors(), names)
        metrics: dict[str, Any] = {
            "held_out_labels": len(held),
            "held_out_loss_current": judged.loss_current,
            "held_out_loss_new": judged.loss_new,
            "held_out_loss_standard_error": (
                judged.standard_error if math.isfinite(judged.standard_error) else None
            ),
            "held_out_accuracy_current": current_acc,
            "held_out_accuracy_new": new_acc,
            "train_loss": train_loss,
            "labels": len(labels),
            "positives": n_pos,
            "goal_labels": sum(1 for x in labels if x.goal_id is not None),
            "feedback_upto": upto,
            "changes": changes,
        }
        if cancel is not None:
            cancel.raise_if_cancelled()
        metrics["seconds"] = round(time.perf_counter() - started, 2)
        version_id = None
        if better:
            # The validated candidate itself is used (not a refit on every label), so the
            # next run compares it on held-out items it has never seen.
            version_id = self.ranker.save_version(candidate, len(labels), metrics)
            said = "; ".join(changes)
            message = (
                f"Learnt from {len(labels)} labelled items; the new scorer is in use. "
                f"{said[:1].upper()}{said[1:]}."
            )
        else:
            self.ranker.record_rejected(len(labels), metrics)
            message = (
                f"Trained on {len(labels)} labelled items, but none voted relevant could be "
                "held out to check it on; the scorer in use is kept."
                if math.isnan(judged.loss_new)
                else f"Trained on {len(labels)} labelled items, but it ordered the held-out ones "
                f"worse than the scorer in use, by more than chance (pairs ordered correctly: "
                f"{percent(current_acc)} → {percent(new_acc)}); the scorer in use is kept."
            )
        return TrainResult(len(labels), better, version_id, metrics, message)
