"""The ranking service: ranks the items against the goals, stores the inbox's ranking and
explains one item's passages.

It is built by the composition root (``focusdesk.app``) with what it needs: the store,
the settings, the clock, where the stored ranking and the index live, and providers of
the encoder and the ranker (both built lazily: asking for the stored ranking loads no
model and imports neither torch nor numpy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.progress import CancelToken
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.passage_weights import ItemEvidence, PassageExplainer
    from focusdesk.rank.ranker import Ranker, Ranking
    from focusdesk.rank.stored_ranking import InboxRanking, StoredRanking
    from focusdesk.records import RankedItem
    from focusdesk.settings import Settings
    from focusdesk.store.db import Store

log = logging.getLogger(__name__)


class RankingService:
    """Ranks, stores the inbox's ranking, describes rows and explains an item."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        *,
        cache_dir: Path,
        index_dir: Path,
        encoder: Callable[[], Encoder],
        ranker: Callable[[], Ranker],
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.cache_dir = cache_dir
        self.index_dir = index_dir
        self._encoder = encoder
        self._ranker = ranker
        self._explainer: PassageExplainer | None = None

    def rank(
        self,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        item_ids: Collection[int] | None = None,
        cancel: CancelToken | None = None,
        conversations: bool = True,
    ) -> list[RankedItem]:
        """Every live item (or only ``item_ids``) scored against the active goals (or
        ``goal_ids``), best first; each conversation one row unless not ``conversations``."""
        return self._ranker().rank(
            top=top,
            goal_ids=goal_ids,
            item_ids=item_ids,
            cancel=cancel,
            conversations=conversations,
        )

    @property
    def ranking_file(self) -> Path:
        """Where the last inbox ranking is stored."""
        from focusdesk.rank.stored_ranking import ranking_file

        return ranking_file(self.cache_dir)

    def rank_inbox(self, *, cancel: CancelToken | None = None) -> list[RankedItem]:
        """The inbox's ranking (every live item against every active goal, a conversation
        one row) computed now, and stored with what it was computed from, so that the next
        start and ``focusdesk rank`` show it at once."""
        fresh = self.compute_inbox(cancel=cancel)
        self.store_inbox(fresh)
        return fresh.items

    def compute_inbox(self, *, cancel: CancelToken | None = None) -> StoredRanking:
        """The inbox's ranking computed now, with what it was computed from, not yet
        stored: the app shows it first and stores it (``store_inbox``) right after."""
        from focusdesk.rank.stored_ranking import StoredRanking, full_basis, index_manifest
        from focusdesk.rank.stored_ranking import store_basis as read_basis

        started = self.clock.now()
        db_part = read_basis(self.store, self.settings)  # before: a change meanwhile shows
        items = self.rank(cancel=cancel)
        basis = full_basis(  # the model and the index as the ranking just used them
            db_part, self._encoder().expected_model_id(), index_manifest(self.index_dir)
        )
        return StoredRanking(basis, started, items)

    def store_inbox(self, fresh: StoredRanking) -> None:
        """Store a computed inbox ranking (the one place a ranking is stored); a full disk
        only logs: the ranking is still shown, just not kept."""
        from focusdesk.rank.stored_ranking import save_ranking

        try:
            save_ranking(self.ranking_file, fresh.basis, fresh.computed_at, fresh.items)
        except OSError as exc:
            log.warning("The inbox ranking could not be stored in %s: %s", self.ranking_file, exc)

    def stored_inbox(self) -> InboxRanking | None:
        """The last stored inbox ranking, its rows checked against the items' statuses now,
        and whether it is current (None: none stored, or unreadable). Loads no model."""
        from focusdesk.rank.stored_ranking import (
            InboxRanking,
            full_basis,
            index_manifest,
            judge,
            load_ranking,
            store_basis,
            with_current_statuses,
        )

        stored = load_ranking(self.ranking_file)
        if stored is None:
            return None
        basis = full_basis(
            store_basis(self.store, self.settings),
            self._encoder().expected_model_id(),
            index_manifest(self.index_dir),
        )
        current, why = judge(stored, basis, self.clock.now())
        items, pinned = with_current_statuses(self.store, stored.items)
        return InboxRanking(items, stored.computed_at, current, why, pinned)

    def inbox(self, *, fresh: bool = False, cancel: CancelToken | None = None) -> InboxRanking:
        """The inbox's ranking: the stored one when it is current (no model loaded), else
        (or when ``fresh``) computed now and stored."""
        from focusdesk.rank.stored_ranking import InboxRanking

        if not fresh:
            stored = self.stored_inbox()
            if stored is not None and stored.current:
                return stored
        started = self.clock.now()
        return InboxRanking(self.rank_inbox(cancel=cancel), started, True)

    def arrays(
        self,
        *,
        goal_ids: Sequence[int] | None = None,
        cancel: CancelToken | None = None,
    ) -> Ranking:
        """The ranking as arrays (item ids, scores, goals, evidence chunks), no item's
        fields read: a view describes the rows it shows with ``describe``."""
        return self._ranker().ranking(goal_ids=goal_ids, cancel=cancel)

    def describe(self, ranking: Ranking, rows: Iterable[int]) -> list[RankedItem]:
        """The rows at positions ``rows`` of ``ranking`` with the fields a view shows."""
        return self._ranker().describe(ranking, rows)

    def explain_item(
        self, item_id: int, goal_id: int, *, cancel: CancelToken | None = None
    ) -> ItemEvidence:
        """Each passage's attention weight for ``goal_id`` and the best sentence of the
        evidence passage (sentence vectors computed on demand and cached)."""
        if self._explainer is None:
            from focusdesk.rank.passage_weights import PassageExplainer

            self._explainer = PassageExplainer(self._ranker())
        return self._explainer.explain(item_id, goal_id, cancel=cancel)
