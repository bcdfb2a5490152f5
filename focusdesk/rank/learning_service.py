"""The learning service: trains the ranking model from feedback (by hand or in the
background), resets it, and says how learning stands.

Built by the composition root (``focusdesk.app``) with what it needs: the store, the
settings, the folder of the training lock, and providers of the ranker and of the model
versions (asking how learning stands loads no model when the ranker is not built yet).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from focusdesk.store.models import ScorerVersion

if TYPE_CHECKING:
    from focusdesk.progress import CancelToken
    from focusdesk.rank.autolearn import AutoLearner
    from focusdesk.rank.learning import TrainResult
    from focusdesk.rank.learning_status import LearningStatus
    from focusdesk.rank.model_versions import ModelVersions
    from focusdesk.rank.ranker import Ranker
    from focusdesk.settings import Settings
    from focusdesk.store.db import Store


class LearningService:
    """Training runs, the reset, background learning (``auto``) and the learning status."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        scorer_dir: Path,
        *,
        ranker: Callable[[], Ranker],
        built_ranker: Callable[[], Ranker | None],
        model_versions: Callable[[], ModelVersions],
    ) -> None:
        self.store = store
        self.settings = settings
        self.scorer_dir = scorer_dir
        self._ranker = ranker
        self._built_ranker = built_ranker
        self._model_versions = model_versions
        self._learner: AutoLearner | None = None

    @property
    def lock_file(self) -> Path:
        """The profile's lock: one training run at a time across processes."""
        return self.scorer_dir / "train.lock"

    def train(self, cancel: CancelToken | None = None, *, wait: bool = False) -> TrainResult:
        """Learn from all feedback; the new version is used only if it is better held out.

        Raises ``TrainingBusy`` when another process trains this profile (unless ``wait``).
        """
        from focusdesk.rank.learning import ScorerTrainer
        from focusdesk.rank.train_lock import training_lock

        with training_lock(self.lock_file, wait=wait):
            ranker = self._ranker()
            ranker.follow_active_version()
            return ScorerTrainer(ranker).train(cancel)

    def reset(self) -> None:
        """ "Reset learning": the untrained scorer again, and feedback given so far is not
        learnt from any more (trained versions stay on record). Waits for a running
        training run to end."""
        from focusdesk.rank.train_lock import training_lock

        with training_lock(self.lock_file, wait=True):
            self._ranker().reset_scorer()
        if self._learner is not None:
            self._learner.forget()

    @property
    def auto(self) -> AutoLearner:
        """Background learning: the trigger policy (from the settings) and the trainer."""
        if self._learner is None:
            from focusdesk.rank.autolearn import AutoLearner, TriggerPolicy

            self._learner = AutoLearner(
                self.store, self.train, lambda: TriggerPolicy.from_settings(self.settings)
            )
        return self._learner

    def status(self) -> LearningStatus:
        """Which scorer ranks now, on how many signals, what it changed, what is pending."""
        from focusdesk.rank.autolearn import signal_state
        from focusdesk.rank.learning_status import learning_status

        ranker = self._built_ranker()
        return learning_status(
            self.versions(),
            enabled=self.settings.learning_enabled,
            pending=signal_state(self.store).new_signals,
            problem=(
                ranker.model_problem()
                if ranker is not None
                else self._model_versions().check_active()
            ),
        )

    def versions(self) -> list[dict[str, Any]]:
        """Every training run: when, on how many labels, held-out figures, used or not."""
        with self.store.session() as s:
            return [
                {
                    "id": v.id,
                    "created_at": v.created_at,
                    "labels": v.n_votes,
                    "accepted": v.accepted,
                    "active": v.active,
                    "metrics": dict(v.metrics),
                }
                for v in s.scalars(select(ScorerVersion).order_by(ScorerVersion.id))
            ]
