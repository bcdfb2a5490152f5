"""When to learn: the one trigger policy of the desktop app, `run --headless` and the
quality benchmark.

Training starts when enough new signals (votes, opens read for a while, done,
dismiss, snooze, un-snooze, pin) arrived since the last run, or when at least one did
and then nothing for a quiet moment. The time is always passed in (never read here),
so tests drive it. New signals are counted in the store, so a vote given with the CLI
is learnt by the app or the headless runner beside it; the profile's training lock
makes one run at a time across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from focusdesk.progress import CancelToken
from focusdesk.rank.train_lock import TrainingBusy
from focusdesk.store.models import Feedback, ScorerVersion

if TYPE_CHECKING:
    from focusdesk.rank.learning import TrainResult
    from focusdesk.settings import Settings
    from focusdesk.store.db import Store

LEARNABLE = ("up", "down", "open", "dismiss", "done", "snooze", "unsnooze", "pin", "unpin")


@dataclass(frozen=True)
class SignalState:
    """The feedback not learnt from yet."""

    new_signals: int
    last_signal_at: datetime | None
    last_feedback_id: int


@dataclass(frozen=True)
class TriggerPolicy:
    """Learn after ``after_signals`` new signals, or after ``quiet_seconds`` of quiet."""

    enabled: bool = True
    after_signals: int = 10
    quiet_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TriggerPolicy:
        return cls(
            settings.learning_enabled,
            max(1, settings.learn_after_signals),
            float(max(0, settings.learn_quiet_seconds)),
        )

    def due(self, state: SignalState, now: datetime) -> str | None:
        """Why a run is due now ("enough signals", "quiet moment"), or None."""
        if not self.enabled or state.new_signals <= 0:
            return None
        if state.new_signals >= self.after_signals:
            return "enough signals"
        last = state.last_signal_at
        if last is not None and (now - last).total_seconds() >= self.quiet_seconds:
            return "quiet moment"
        return None


def signal_state(store: Store) -> SignalState:
    """Signals recorded after the last training run (or the last "Reset learning")."""
    with store.session() as s:
        last_run = s.scalar(select(ScorerVersion.metrics).order_by(ScorerVersion.id.desc()))
        upto = int((last_run or {}).get("feedback_upto", 0))
        count, latest, last_id = s.execute(
            select(
                func.count(Feedback.id), func.max(Feedback.created_at), func.max(Feedback.id)
            ).where(Feedback.id > upto, Feedback.signal.in_(LEARNABLE))
        ).one()
    return SignalState(int(count or 0), latest, int(last_id or upto))


class AutoLearner:
    """Runs the trainer when the policy says so; shared by the app and the headless runner."""

    def __init__(
        self,
        store: Store,
        train: Callable[[CancelToken | None], TrainResult],
        policy: Callable[[], TriggerPolicy],
    ) -> None:
        self.store = store
        self._train = train
        self._policy = policy
        self._tried_upto = -1  # a run that learnt nothing is not repeated for the same signals

    def forget(self) -> None:
        """After "Reset learning": every signal from now on is new again."""
        self._tried_upto = -1

    def due(self, now: datetime) -> str | None:
        """Why training is due at ``now``, or None."""
        state = signal_state(self.store)
        if state.last_feedback_id <= self._tried_upto:
            return None
        return self._policy().due(state, now)

    def run_if_due(self, now: datetime, cancel: CancelToken | None = None) -> TrainResult | None:
        """Train when due and no other process is training; the result, else None."""
        if self.due(now) is None:
            return None
        try:
            result = self._train(cancel)
        except TrainingBusy:
            return None
        upto: Any = result.metrics.get("feedback_upto")
        self._tried_upto = int(upto) if upto is not None else self._tried_upto
        return result
