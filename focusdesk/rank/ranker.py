"""The ranker: every live item scored by the attention layer against the active goals.

Goals are expanded into facet queries (``goal_queries``); each item's chunk vectors
(its passages and its document chunk) come from the vector index through a cached
``ChunkLayout``; ``score_facets`` runs the ``GoalAttentionScorer``. The result, per
item: its score, best goal, the facet that matched and the evidence passage.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select

from focusdesk.clock import Clock, SystemClock
from focusdesk.errors import KnownError
from focusdesk.progress import CancelToken
from focusdesk.rank.affinities import Priors, sender_key
from focusdesk.rank.calibration import Calibrated, Calibrations, GoalCalibration, calibrate
from focusdesk.rank.candidates import CandidatePass, KeysCache, RowKeysCache
from focusdesk.rank.conversations import collapse_conversations, with_threads
from focusdesk.rank.goal_queries import goal_queries
from focusdesk.rank.lexical import bm25_strengths, lexical_scores
from focusdesk.rank.model_versions import ModelVersions, VersionProblem
from focusdesk.rank.priors import Stories, epoch_seconds
from focusdesk.rank.proportional import Seating, proportional_order
from focusdesk.rank.scoring import (
    ChunkLayout,
    FacetCache,
    FacetScores,
    ItemScores,
    combine_facets,
    one_torch_thread,
    score_facets,
)
from focusdesk.records import RELEVANCE_BAR, RankedItem
from focusdesk.settings import Settings
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Goal, Item, Source

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.index import VectorIndex
    from focusdesk.rank.model import RankingModel

log = logging.getLogger(__name__)

REFERENCE_ITEMS = 5000
"""Items a goal is calibrated against: every live item up to this many, else an even
sample of them (scored exactly once per goal, scorer and item set)."""
STORY_TITLES = 3
"""How many of a story's other items each row names (the Why panel shows them)."""


@dataclass(frozen=True)
class ActiveGoal:
    """A goal as the ranker uses it."""

    id: int
    title: str
    description: str
    weight: float

    @property
    def queries(self) -> list[str]:
        return goal_queries(self.title, self.description)


@dataclass
class ItemMeta:
    """Per-item facts the priors need, aligned with the layout's items."""

    source_ids: np.ndarray
    kinds: list[str]
    senders: list[str]
    dates: np.ndarray
    """[N] float64 seconds since the epoch (UTC) of each item's date; NaN: undated."""


@dataclass
class GoalQueries:
    """The facet queries of a set of goals, embedded."""

    goals: list[ActiveGoal]
    texts: list[str]
    vectors: np.ndarray  # [F, d]
    weights: np.ndarray  # [F]
    owner: np.ndarray  # [F] goal index


@dataclass
class Ranking:
    """A ranking as arrays: the rows best first, and for each what explains it.

    ``rows`` index the scored items (``scores``); everything a view shows beyond these
    figures (title, source, author, date, status, the evidence's text) is read for the
    rows a view asks for only (``Ranker.describe``).
    """

    gq: GoalQueries
    scores: ItemScores
    """Every scored item's relevance, per-goal relevance, best goal, facets, evidence."""
    final: np.ndarray  # [N] score: relevance plus the priors
    parts: dict[str, np.ndarray]  # prior name -> [N] what it added
    stories: Stories
    calibrated: Calibrated
    rows: np.ndarray  # [R] indices into the scored items, best first
    seat: np.ndarray  # [R] goal index each row is shown for, -1 for none
    threads: dict[int, tuple[int, ...]]
    """Row item id -> the other messages of its conversation, collapsed under it."""

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def goals(self) -> list[ActiveGoal]:
        return self.gq.goals

    @property
    def item_ids(self) -> np.ndarray:
        """[R] the rows' item ids, best first."""
        return self.scores.item_ids[self.rows]

    @property
    def scores_of_rows(self) -> np.ndarray:
        """[R] the rows' final scores."""
        return self.final[self.rows]

    def evidence_chunks(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Chunk id of the evidence of the rows at ``positions``: the passage the goal each
        row is shown for attends to most (its best goal's where it has no seat); -1: none."""
        at = self.rows[np.asarray(positions, np.int64)]
        seat = self.seat[np.asarray(positions, np.int64)]
        sc = self.scores
        if sc.goal_evidence is not None:
            per_seat = sc.goal_evidence[at, np.maximum(seat, 0)]
        else:
            per_seat = np.where(sc.best_goal[at] == seat, sc.evidence_chunk[at], -1)
        return np.where(seat >= 0, per_seat, sc.evidence_chunk[at]).astype(np.int64)


class Ranker:
    """Ranks items against goals; built once per profile by the composition root."""

    def __init__(
        self,
        store: Store,
        encoder: Encoder,
        index: Callable[[], VectorIndex],
        settings: Settings,
        versions: ModelVersions,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.encoder = encoder
        self._index = index
        self.settings = settings
        self.versions = versions
        self._model: RankingModel | None = None
        self._priors: Priors | None = None
        self._problem: VersionProblem | None = None  # why the active version is not used
        self._scorer_version: int | None = None  # the loaded version's id (None: untrained)
        self._active_seen: int | None = None  # the active version's id when it was loaded
        self._layout: ChunkLayout | None = None
        self._layout_key: tuple[int, int] | None = None
        self._meta: ItemMeta | None = None
        self._keys = KeysCache()
        self._row_keys = RowKeysCache()
        self._reference_keys = RowKeysCache()
        """The projected keys of the calibration sample's chunks (``_reference_scores``)."""
        self._candidate_pass = CandidatePass()
        self.calibrations = Calibrations()
        self._lexical: dict[tuple[object, ...], np.ndarray] = {}
        self._scored: tuple[tuple[object, ...], ItemScores] | None = None
        """The candidates' scores and what they were computed from (``score``)."""
        self._facets = FacetCache()
        """The candidates' scores per facet: a goal edited scores its own facets only."""
        self._this_ranking = threading.local()
        """The layout of the ranking this thread is computing (``ranking``)."""

    @property
    def index(self) -> VectorIndex:
        return self._index()

    # -- the ranking model and its versions -------------------------------------------------
    def untrained_model(self) -> RankingModel:
        """A fresh ranking model in its untrained state, configured by the settings."""
        from focusdesk.rank.attention import GoalAttentionScorer
        from focusdesk.rank.model import RankingModel

        scorer = GoalAttentionScorer(
            self.encoder.dim,
            heads=self.settings.heads,
            init_temperature=self.settings.temperature,
            goal_temperature=self.settings.goal_softmax_temperature,
        )
        return RankingModel.untrained(scorer).eval()

    @property
    def model(self) -> RankingModel:
        """The ranking model in use: the active learnt version, else the untrained one
        (then ``model_problem`` says why a learnt version in use could not be used)."""
        if self._model is None:
            from focusdesk.rank.model_versions import UnusableVersion

            version = self.versions.active()
            self._active_seen = version.id if version else None
            self._problem = None
            self._scorer_version = None
            if version is not None:
                try:
                    self._model = self.versions.load(version.id)
                    self._scorer_version = version.id
                except UnusableVersion as exc:
                    self._problem = exc.problem
                    log.warning("%s", exc.problem.message())
            if self._model is None:
                self._model = self.untrained_model()
            self._priors = self._model.priors()
        return self._model

    @property
    def scorer(self) -> GoalAttentionScorer:
        """The attention scorer of the model in use."""
        return self.model.scorer

    @property
    def version_in_use(self) -> int | None:
        """The id of the learnt version in use; None for the untrained model."""
        _ = self.model
        return self._scorer_version

    def model_problem(self) -> VersionProblem | None:
        """Why the active learnt version is not the one ranking (None: it is, or none is
        active). Answered without torch while the model is not loaded."""
        version = self.versions.active()
        active = version.id if version is not None else None
        if self._model is not None and active == self._active_seen:
            return self._problem
        return self.versions.check(active) if active is not None else None

    def follow_active_version(self) -> None:
        """Pick up a version trained or reset by another process (the CLI beside the app)."""
        if self._model is None:
            return
        version = self.versions.active()
        active = version.id if version is not None else None
        if active != self._active_seen:  # not the loaded one: a version that failed to load
            self.scorer_changed()  # or did not fit the model is not retried on every rank

    @property
    def priors(self) -> Priors:
        """The learnt source and sender affinities of the model in use."""
        _ = self.model
        assert self._priors is not None
        return self._priors

    def scorer_changed(self) -> None:
        """Drop everything derived from the model's parameters (after training or reset)."""
        self._model = None
        self._priors = None
        self._keys.clear()
        self._row_keys.clear()
        self._reference_keys.clear()
        self._scored = None
        self._facets.clear()
        self.calibrations.clear()

    def save_version(self, model: RankingModel, n_votes: int, metrics: Mapping[str, object]) -> int:
        """Store a trained model as a new version and make it the one in use."""
        vid = self.versions.save(model, n_votes, metrics)
        self.scorer_changed()
        return vid

    def record_rejected(self, n_votes: int, metrics: Mapping[str, object]) -> None:
        """Keep the evaluation of a version that was not better (its weights are dropped)."""
        self.versions.record_rejected(n_votes, metrics)

    def reset_scorer(self) -> None:
        """Go back to the untrained model and start learning afresh: feedback given so far
        is no longer learnt from (it stays, and trained versions stay on record)."""
        self.versions.reset()
        self.scorer_changed()

    def invalidate(self) -> None:
        """Forget the cached chunk layout (after a sync changed items or chunks)."""
        self._layout = None
        self._layout_key = None
        self._meta = None
        self._keys.clear()
        self._row_keys.clear()
        self._reference_keys.clear()
        self._lexical.clear()
        self._scored = None
        self._facets.clear()
        self._candidate_pass.forget()

    def forget_scores(self, *, keys: bool = False) -> None:
        """Drop the candidates' cached scores, per facet too, and the candidate pass's
        hits: the next ranking searches and scores every facet again (the benchmark
        times it). The candidates' projected keys stay (they depend on the scorer and the
        vectors only) unless ``keys``: what a new scorer or item set costs besides loading
        them."""
        self._scored = None
        self._facets.clear()
        self._candidate_pass.forget()
        if keys:
            self._row_keys.clear()
            self._reference_keys.clear()
            self._keys.clear()

    def active_goals(self, goal_ids: Sequence[int] | None = None) -> list[ActiveGoal]:
        """Active goals with a weight, or just those of ``goal_ids`` (a focus block's)."""
        with self.store.session() as s:
            stmt = select(Goal).where(Goal.active.is_(True), Goal.weight > 0)
            if goal_ids is not None:
                stmt = select(Goal).where(Goal.id.in_(list(goal_ids)), Goal.weight > 0)
            goals = s.scalars(stmt.order_by(Goal.id)).all()
            return [ActiveGoal(g.id, g.title, g.description or "", float(g.weight)) for g in goals]

    def embed_goals(self, goals: list[ActiveGoal]) -> GoalQueries:
        """Facet texts of the goals and their (cached) embeddings."""
        from focusdesk.rank.passages import encode_cached

        texts: list[str] = []
        owner: list[int] = []
        weights: list[float] = []
        for n, goal in enumerate(goals):
            for q in goal.queries:
                texts.append(q)
                owner.append(n)
                weights.append(goal.weight)
        # A goal's few new texts on one torch thread: ~12 ms for two, where two threads
        # took 0.8 s a call while the cores were shared (``scoring.SINGLE_THREAD_ROWS``).
        with one_torch_thread():
            vectors = encode_cached(self.store, self.encoder, texts)
        return GoalQueries(
            goals, texts, vectors, np.asarray(weights, np.float32), np.asarray(owner, np.int64)
        )

    def layout(self) -> ChunkLayout:
        """Which chunk vectors make up each live item (cached until the store changes)."""
        from focusdesk.rank.passages import DOCUMENT_ORDINAL

        pinned: ChunkLayout | None = getattr(self._this_ranking, "layout", None)
        if pinned is not None:
            return pinned  # checked when this thread's ranking began
        index = self._index()
        with self.store.session() as s:
            key = (
                len(index),
                int(s.scalar(select(Chunk.id).order_by(Chunk.id.desc()).limit(1)) or 0),
            )
            if self._layout is not None and self._layout_key == key:
                return self._layout
            rows = np.asarray(
                s.execute(
                    select(Chunk.item_id, Chunk.id, Chunk.ordinal)
                    .join(Item, Item.id == Chunk.item_id)
                    .where(Item.vanished.is_(False))
                    .order_by(Chunk.item_id, Chunk.ordinal)
                ).all(),
                dtype=np.int64,
            ).reshape(-1, 3)
        pos = index.positions(rows[:, 1]) if len(rows) else np.zeros(0, np.int64)
        rows, pos = rows[pos >= 0], pos[pos >= 0]  # chunks not encoded yet wait for a sync
        self._layout = ChunkLayout.from_rows(
            rows[:, 0], rows[:, 1], pos, rows[:, 2] != DOCUMENT_ORDINAL
        )
        self._layout_key = key
        self._meta = None
        return self._layout

    def meta(self) -> ItemMeta:
        """Source, kind, sender and date of every item of the layout (cached with it)."""
        layout = self.layout()
        if self._meta is not None:
            return self._meta
        info: dict[int, tuple[int, str, str, float]] = {}
        with self.store.session() as s:
            for iid, sid, kind, author, published, received in s.execute(
                select(
                    Item.id,
                    Item.source_id,
                    Source.kind,
                    Item.author,
                    Item.published_at,
                    Item.received_at,
                )
                .join(Source, Source.id == Item.source_id)
                .where(Item.vanished.is_(False))
            ):
                info[iid] = (sid, kind, sender_key(author), epoch_seconds(published or received))
        ids = [int(i) for i in layout.item_ids]
        meta = ItemMeta(
            source_ids=np.asarray([info[i][0] for i in ids], np.int64),
            kinds=[info[i][1] for i in ids],
            senders=[info[i][2] for i in ids],
            dates=np.asarray([info[i][3] for i in ids], np.float64),
        )
        if layout is self._layout:  # (not one that another thread has replaced meanwhile)
            self._meta = meta
        return meta

    def item_meta(self, item_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """(source id, sender) of each of these items."""
        meta = self.meta()
        pos = self._positions(item_ids)
        return {
            int(i): (int(meta.source_ids[k]), meta.senders[k])
            for i, k in zip(item_ids, pos.tolist(), strict=True)
            if k >= 0
        }

    def _positions(self, item_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Each item's position in the layout (whose item ids are sorted); -1: not in it."""
        ids = self.layout().item_ids
        wanted = np.asarray(item_ids, np.int64).reshape(-1)
        at = np.minimum(np.searchsorted(ids, wanted), max(0, len(ids) - 1))
        found = ids[at] == wanted if len(ids) else np.zeros(len(wanted), bool)
        return np.where(found, at, -1)

    def goal_queries_for_training(self) -> GoalQueries:
        """The active goals' facet queries, as training and evaluation use them."""
        goals = self.active_goals()
        if not goals:
            raise KnownError("There are no active goals to learn for.")
        return self.embed_goals(goals)

    def score(
        self,
        goals: list[ActiveGoal],
        *,
        item_ids: Collection[int] | None = None,
        cancel: CancelToken | None = None,
        row_keys: RowKeysCache | None = None,
    ) -> tuple[ItemScores, GoalQueries]:
        """Score the live, encoded items against ``goals`` (in a large profile, the candidates;
        given ``item_ids``, exactly those items, however large the profile).

        The projected keys of every chunk vector are cached between calls (in a large
        profile: the candidates' chunks', and with ``item_ids``, those of ``row_keys``).
        """
        gq = self.embed_goals(goals)
        layout = self.layout()
        index = self._index()
        if item_ids is not None:
            wanted = np.fromiter(item_ids, np.int64, count=len(item_ids))
            layout = layout.subset(np.isin(layout.item_ids, wanted))
        if len(layout.item_ids) == 0:
            return ItemScores.empty(len(goals)), gq
        scorer = self.scorer
        key: tuple[object, ...] = (
            id(scorer),
            self._scorer_version,
            self._layout_key,
            id(index.vectors),
            id(self._candidate_pass),
            self._candidate_pass.config,
            tuple(gq.texts),
            gq.weights.tobytes(),
        )
        if item_ids is not None:
            keys, kept, at = self._projected_keys(scorer, layout, row_keys)
            facets = score_facets(
                scorer,
                layout,
                index.vectors,
                gq.vectors,
                keys_cache=keys,
                row_keys=kept,
                key_rows=at,
                cancel=cancel,
            )
            return combine_facets(scorer, facets, gq.weights, gq.owner), gq
        if self._scored is not None and self._scored[0] == key:
            return self._scored[1], gq  # nothing it was computed from has changed
        layout = self._candidates(layout, gq)
        # Per facet, the scores of the items scored last are kept: a goal edited scores its
        # own facets for them, and every facet for the items that are new candidates.
        basis = (id(scorer), self._scorer_version, self._layout_key, id(index.vectors))
        facets = self._facets.get(
            basis, layout, gq.vectors, self._facet_scorer(scorer, layout, cancel)
        )
        scores = combine_facets(scorer, facets, gq.weights, gq.owner)
        self._scored = (key, scores)
        return scores, gq

    def _facet_scorer(
        self, scorer: GoalAttentionScorer, layout: ChunkLayout, cancel: CancelToken | None
    ) -> Callable[[np.ndarray, np.ndarray], FacetScores]:
        """Scores the items at some positions of ``layout`` against some facet queries.
        With a candidate pass, only the candidates' few chunks are projected (those not
        among the last scored), once per ranking: the projected keys of every chunk would
        double the vectors' memory."""
        index = self._index()
        found: list[tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]] = []

        def score(items: np.ndarray, queries: np.ndarray) -> FacetScores:
            if not found:
                found.append(self._projected_keys(scorer, layout, self._row_keys))
            keys, kept, at = found[0]
            return score_facets(
                scorer,
                layout,
                index.vectors,
                queries,
                items=items,
                keys_cache=keys,
                row_keys=kept,
                key_rows=at,
                cancel=cancel,
            )

        return score

    def _projected_keys(
        self, scorer: GoalAttentionScorer, layout: ChunkLayout, cache: RowKeysCache | None
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Where ``score_facets`` finds the projected keys of ``layout``'s chunks, as its
        (``keys_cache``, ``row_keys``, ``key_rows``): every chunk's keys while the profile
        is small (no candidate pass), else those of the layout's rows from ``cache``; with
        no cache, none (``score_facets`` projects them)."""
        index = self._index()
        if not self._candidate_pass.needed(index):
            return self._keys.get(scorer, index.vectors), None, None
        if cache is None:
            return None, None, None
        with one_torch_thread():
            kept, at = cache.lookup(scorer, index.vectors, layout.rows)
        return None, kept, at

    def _candidates(self, layout: ChunkLayout, gq: GoalQueries) -> ChunkLayout:
        """The items worth exact scoring: all while the profile is small, else a FAISS pass's."""
        return self._candidate_pass.select(
            self.scorer, layout, self._index(), gq.vectors, gq.weights
        )

    def rank(
        self,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        item_ids: Collection[int] | None = None,
        cancel: CancelToken | None = None,
        conversations: bool = True,
    ) -> list[RankedItem]:
        """Live items best first, each with score, best goal and evidence passage
        (only ``item_ids``, when given: a period's items for a review); a conversation's
        messages are one row unless not ``conversations``. Only the ``top`` rows are
        described (their fields read from the store), when given."""
        ranking = self.ranking(
            top, goal_ids=goal_ids, item_ids=item_ids, cancel=cancel, conversations=conversations
        )
        return self.describe(ranking, range(len(ranking) if top is None else top))

    def ranking(
        self,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        item_ids: Collection[int] | None = None,
        cancel: CancelToken | None = None,
        conversations: bool = True,
    ) -> Ranking:
        """The ranking as arrays (see ``rank``); no item's fields are read. ``top``: only
        that many rows are seated by turns among the goals (the rest follow by their best
        goal's order), for a caller that shows no more. The layout is checked against the
        store once for the whole ranking (its parts ask for it a dozen times)."""
        if getattr(self._this_ranking, "layout", None) is not None:
            return self._ranking(top, goal_ids, item_ids, cancel, conversations)
        self._this_ranking.layout = self.layout()
        try:
            return self._ranking(top, goal_ids, item_ids, cancel, conversations)
        finally:
            self._this_ranking.layout = None

    def _ranking(
        self,
        top: int | None,
        goal_ids: Sequence[int] | None,
        item_ids: Collection[int] | None,
        cancel: CancelToken | None,
        conversations: bool,
    ) -> Ranking:
        self.follow_active_version()
        goals = self.active_goals(goal_ids)
        if not goals:
            raise KnownError(
                "There are no active goals to rank against.",
                hint='Add one with: focusdesk goals add "what you are working on"',
            )
        scores, gq = self.score(goals, item_ids=item_ids, cancel=cancel)
        per_goal = self.goal_scores(gq, scores)
        final, parts, stories = self.apply_priors(scores, per_goal - scores.per_goal)
        # What the priors add to an item moves it within each of its goals as well.
        shift = final - scores.relevance - parts.get("lexical", 0.0)
        calibrated = self.calibrate(gq, scores, per_goal, shift)
        # The rows: one per story (near-duplicates collapse under their best item), then
        # one per conversation (focusdesk/rank/conversations.py), under its best message.
        rows = np.flatnonzero(stories.story_of[: len(final)] == np.arange(len(final)))
        rows = rows[np.argsort(-final[rows], kind="stable")]
        rows, threads = collapse_conversations(self.store, scores.item_ids, rows, conversations)
        seating = self.seat(gq, calibrated, rows, top)
        return Ranking(
            gq=gq,
            scores=scores,
            final=final,
            parts=parts,
            stories=stories,
            calibrated=calibrated,
            rows=np.asarray(rows[seating.order], np.int64),
            seat=np.asarray(seating.seat, np.int64),
            threads=threads,
        )

    def goal_scores(self, gq: GoalQueries, scores: ItemScores) -> np.ndarray:
        """[N, G] each goal's relevance with the lexical prior: r_g + w · BM25 strength."""
        weight = self.priors.lexical_weight
        out = scores.per_goal.astype(np.float64)
        if weight == 0 or len(scores.item_ids) == 0:
            return out
        return out + weight * self.lexical_matrix(gq.goals, scores.item_ids)

    def lexical_matrix(self, goals: Sequence[ActiveGoal], item_ids: np.ndarray) -> np.ndarray:
        """[N, G] the lexical prior's strength of each item for each goal, before its weight
        (``item_ids`` are live items of the layout)."""
        layout = self.layout()
        at = np.searchsorted(layout.item_ids, np.asarray(item_ids, np.int64))
        out = np.zeros((len(item_ids), len(goals)), np.float32)
        for j, goal in enumerate(goals):
            out[:, j] = self._lexical_column(goal, layout)[at]
        return out

    def _lexical_column(self, goal: ActiveGoal, layout: ChunkLayout) -> np.ndarray:
        """The goal's lexical strength of every item of the layout (cached until the items
        change: BM25 over the FTS5 index once per goal and item set)."""
        key = (tuple(goal.queries), self._layout_key)
        found = self._lexical.get(key)
        if found is None:
            if len(self._lexical) > 64:
                self._lexical.clear()
            strengths = bm25_strengths(self.store, goal.queries)
            found = self._lexical[key] = lexical_scores(strengths, layout.item_ids)
        return found

    def calibrate(
        self, gq: GoalQueries, scores: ItemScores, per_goal: np.ndarray, shift: np.ndarray
    ) -> Calibrated:
        """Each goal's scores calibrated against the profile's own (``calibration.py``);
        ``shift`` [N] is what the priors add to each item."""
        fits = self.goal_fits(gq, scores, per_goal)
        kinds = self._kinds(scores.item_ids)
        return calibrate(fits, per_goal, kinds, shift)

    def goal_fits(
        self, gq: GoalQueries, scores: ItemScores, per_goal: np.ndarray
    ) -> list[GoalCalibration]:
        """One fit per goal, reused while the goal's queries, the scorer and the items are
        the same; missing ones are fitted to every live item's score (or an even sample),
        taken from ``scores`` when they cover every live item."""
        layout = self.layout()
        version = (self._scorer_version, self.priors.lexical_weight, self._layout_key)
        keys = [(tuple(goal.queries), version) for goal in gq.goals]
        fits = [self.calibrations.get(k) for k in keys]
        missing = [j for j, fit in enumerate(fits) if fit is None]
        if missing:
            if len(scores.item_ids) == len(layout.item_ids):
                ref_ids, ref = scores.item_ids, per_goal[:, missing]
            else:
                ref_ids, ref = self._reference_scores([gq.goals[j] for j in missing])
            kinds = self._kinds(ref_ids)
            for n, j in enumerate(missing):
                fits[j] = self.calibrations.fit(keys[j], ref[:, n], kinds)
        return [f for f in fits if f is not None]

    def _reference_scores(self, goals: list[ActiveGoal]) -> tuple[np.ndarray, np.ndarray]:
        """(item ids, [M, G] scores) of every live item, or an even sample of them."""
        ids = self.layout().item_ids
        if len(ids) > REFERENCE_ITEMS:
            ids = ids[np.linspace(0, len(ids) - 1, REFERENCE_ITEMS).astype(np.int64)]
        scores, gq = self.score(goals, item_ids=ids.tolist(), row_keys=self._reference_keys)
        return scores.item_ids, self.goal_scores(gq, scores)

    def _kinds(self, item_ids: np.ndarray) -> list[str]:
        kinds = self.meta().kinds
        return [kinds[k] for k in self._positions(item_ids).tolist()]

    def seat(
        self, gq: GoalQueries, calibrated: Calibrated, rows: np.ndarray, top: int | None
    ) -> Seating:
        """The rows' order, shared among the goals in proportion (``proportional.py``)."""
        weights = np.asarray([g.weight for g in gq.goals], np.float64)
        return proportional_order(
            calibrated.probability[rows],
            calibrated.order[rows],
            weights,
            RELEVANCE_BAR,
            limit=top,
        )

    def apply_priors(
        self, scores: ItemScores, lexical: np.ndarray | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Stories]:
        """S = R + lexical + recency + source + sender − redundancy, with each part kept;
        ``lexical`` [N, G] is each goal's lexical prior (the best goal's counts)."""
        from focusdesk.rank.priors import (
            ages_from_epoch,
            half_life_days,
            recency,
            stories_and_redundancy,
        )

        n = len(scores.item_ids)
        if n == 0:
            return (
                np.zeros(0, np.float32),
                {},
                stories_and_redundancy(np.zeros(0), np.zeros((0, 1)), self.settings),
            )
        meta = self.meta()
        rows = self._positions(scores.item_ids)
        half = np.asarray([half_life_days(meta.kinds[r], self.settings) for r in rows.tolist()])
        source_bias, sender_bias = self.priors.source_bias, self.priors.sender_bias
        parts = {
            "lexical": (
                lexical[np.arange(n), np.maximum(scores.best_goal, 0)]
                if lexical is not None and lexical.size
                else np.zeros(n)
            ),
            "recency": recency(
                ages_from_epoch(meta.dates[rows], self.clock.now()),
                half,
                self.settings.recency_weight,
            ),
            "source": np.asarray(
                [source_bias.get(int(sid), 0.0) for sid in meta.source_ids[rows].tolist()]
            ),
            "sender": np.asarray(
                [
                    sender_bias.get(meta.senders[r], 0.0) if meta.senders[r] else 0.0
                    for r in rows.tolist()
                ]
            ),
        }
        base = scores.relevance + sum(parts.values())
        item_ids = scores.item_ids
        stories = stories_and_redundancy(
            base, lambda idx: self.item_vectors(item_ids[idx]), self.settings
        )
        parts["redundancy"] = -stories.penalty
        return (base - stories.penalty).astype(np.float32), parts, stories

    def item_vectors(self, item_ids: np.ndarray) -> np.ndarray:
        """One normalised vector per item: its document chunk, else its passages' mean."""
        layout = self.layout()
        vectors = self.index.vectors
        out = np.zeros((len(item_ids), vectors.shape[1]), np.float32)
        for r, k in enumerate(self._positions(item_ids).tolist()):
            rows = np.arange(layout.starts[k], layout.starts[k] + layout.counts[k])
            doc = rows[~layout.is_passage[rows]]
            v = (
                vectors[layout.rows[doc[0]]]
                if len(doc)
                else vectors[layout.rows[rows]].mean(axis=0)
            )
            out[r] = v / max(1e-9, float(np.linalg.norm(v)))
        return out

    def describe(self, ranking: Ranking, rows: Iterable[int]) -> list[RankedItem]:
        """The rows at positions ``rows`` of ``ranking`` (a page of it), each with the fields
        a view shows. Only those rows' fields are read: the item's columns, not its text or
        body, and the evidence passage's own span of the text. Rows whose item was removed
        since the ranking are left out."""
        from focusdesk.rank.passages import passage_text

        picked = [p for p in rows if 0 <= p < len(ranking)]
        if not picked:
            return []
        scores, stories, goals = ranking.scores, ranking.stories, ranking.goals
        order = ranking.rows[picked]
        seat = ranking.seat[picked]
        wanted = [int(scores.item_ids[i]) for i in order]
        evidence_of = ranking.evidence_chunks(picked).tolist()
        chunk_ids = [c for c in evidence_of if c >= 0]
        shown = {
            int(i): [int(scores.item_ids[m]) for m in stories.members.get(int(i), [])]
            for i in order
        }
        fields = _row_fields(
            self.store, wanted, chunk_ids, [m for ms in shown.values() for m in ms[:STORY_TITLES]]
        )
        # The rows' figures as Python lists at once (not an array lookup per row and goal).
        goal_ids = [goal.id for goal in goals]
        final = ranking.final[order].tolist()
        relevance = scores.relevance[order].tolist()
        parts = {name: v[order].tolist() for name, v in ranking.parts.items()}
        goal_relevance = scores.goal_relevance[order].tolist()
        probability = ranking.calibrated.probability[order].tolist()
        percentile = ranking.calibrated.percentile[order].tolist()
        ranked: list[RankedItem] = []
        for n, (i, g, evidence_chunk) in enumerate(
            zip(order.tolist(), seat.tolist(), evidence_of, strict=True)
        ):
            iid = int(scores.item_ids[i])
            row = fields.items.get(iid)
            if row is None:
                continue  # removed while we were scoring
            f = scores.facet_for(i, g) if g >= 0 else -1
            evidence, span = "", None
            chunk = fields.chunks.get(evidence_chunk)
            if chunk is not None:
                start, end, ordinal, passage = chunk
                if end > start:
                    evidence, span = passage.strip(), (start, end)
                else:
                    evidence = passage_text(row.title, "", 0, 0, ordinal)
            members = shown[i]
            ranked.append(
                RankedItem(
                    item_id=iid,
                    source_id=row.source_id,
                    source_kind=row.kind,
                    source_name=row.source_name,
                    external_id=row.external_id,
                    title=row.title,
                    author=row.author,
                    published_at=row.published_at,
                    status=row.status,
                    score=final[n],
                    relevance=relevance[n],
                    priors={name: v[n] for name, v in parts.items()},
                    story_size=1 + len(members),
                    story_item_ids=tuple(members),
                    story_titles=tuple(
                        t for m in members[:STORY_TITLES] if (t := fields.titles.get(m))
                    ),
                    goal_id=goals[g].id if g >= 0 else None,
                    goal_title=goals[g].title if g >= 0 else None,
                    evidence=evidence,
                    evidence_span=span,
                    goal_scores=dict(zip(goal_ids, goal_relevance[n], strict=True)),
                    matched_facet=ranking.gq.texts[f] if f >= 0 else None,
                    calibrated=dict(zip(goal_ids, probability[n], strict=True)),
                    percentile=dict(zip(goal_ids, percentile[n], strict=True)),
                )
            )
        return with_threads(ranked, ranking.threads)


@dataclass
class _ItemRow:
    source_id: int
    kind: str
    source_name: str
    external_id: str
    title: str
    author: str | None
    published_at: datetime | None
    status: str


@dataclass
class _RowFields:
    items: dict[int, _ItemRow]
    chunks: dict[int, tuple[int, int, int, str]]  # chunk id -> start, end, ordinal, passage
    titles: dict[int, str]


def _ids_in(ids: list[int]) -> Any:
    """The ids as one JSON array for SQLite (``json_each``): one statement and one
    parameter whatever their number (as ``conversations.conversation_keys``)."""
    return select(func.json_each(json.dumps(ids)).table_valued("value").c.value)


def _row_fields(
    store: Store, item_ids: list[int], chunk_ids: list[int], story_ids: list[int]
) -> _RowFields:
    """Column selects for a page of rows: the items' shown fields, each evidence chunk's
    span with its passage cut out of the text by SQLite, and the story members' titles."""
    items: dict[int, _ItemRow] = {}
    chunks: dict[int, tuple[int, int, int, str]] = {}
    titles: dict[int, str] = {}
    with store.session() as s:
        if item_ids:
            for r in s.execute(
                select(
                    Item.id,
                    Item.source_id,
                    Source.kind,
                    Source.name,
                    Item.external_id,
                    Item.title,
                    Item.author,
                    Item.published_at,
                    Item.status,
                )
                .join(Source, Source.id == Item.source_id)
                .where(Item.id.in_(_ids_in(item_ids)))
            ):
                items[int(r[0])] = _ItemRow(*r[1:])
        length = Chunk.char_end - Chunk.char_start
        if chunk_ids:
            for cid, start, end, ordinal, passage in s.execute(
                select(
                    Chunk.id,
                    Chunk.char_start,
                    Chunk.char_end,
                    Chunk.ordinal,
                    func.substr(Item.text, Chunk.char_start + 1, length),
                )
                .join(Item, Item.id == Chunk.item_id)
                .where(Chunk.id.in_(_ids_in(chunk_ids)))
            ):
                chunks[int(cid)] = (int(start), int(end), int(ordinal), passage or "")
        if story_ids:
            rows = s.execute(select(Item.id, Item.title).where(Item.id.in_(_ids_in(story_ids))))
            titles.update({int(iid): title for iid, title in rows})
    return _RowFields(items, chunks, titles)
