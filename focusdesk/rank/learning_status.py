"""What learning did, in words: for the status bar, the Why panel and `scorer status`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from focusdesk.rank.affinities import Priors
    from focusdesk.rank.model_versions import VersionProblem

NOTABLE_BIAS = 0.01
"""A learnt affinity that moved less than this is not worth a sentence."""


def percent(share: float) -> str:
    """0.714 -> '71 %'; unknown -> 'n/a'."""
    return "n/a" if share is None or math.isnan(share) else f"{round(100 * share)} %"


def _moved(old: Mapping[Any, float], new: Mapping[Any, float]) -> list[tuple[Any, float]]:
    keys = set(old) | set(new)
    deltas = [(k, new.get(k, 0.0) - old.get(k, 0.0)) for k in keys]
    return sorted(
        [(k, d) for k, d in deltas if abs(d) >= NOTABLE_BIAS], key=lambda kd: (-abs(kd[1]), kd[0])
    )


def describe_changes(
    accuracy_before: float,
    accuracy_after: float,
    old: Priors,
    new: Priors,
    source_names: Mapping[int, str],
    *,
    most: int = 2,
) -> list[str]:
    """A training run's effect as short sentences, the held-out figure first."""
    lines = [
        f"held-out pairs ordered correctly: {percent(accuracy_before)} → {percent(accuracy_after)}"
    ]
    for key, delta in _moved(old.sender_bias, new.sender_bias)[:most]:
        lines.append(
            f"now favours mail from {key}" if delta > 0 else f"now ranks mail from {key} lower"
        )
    for key, delta in _moved(old.source_bias, new.source_bias)[:most]:
        name = source_names.get(int(key), f"source {key}")
        lines.append(f"now favours {name}" if delta > 0 else f"now ranks {name} lower")
    return lines


@dataclass(frozen=True)
class LearningStatus:
    """Which scorer ranks now, what it learnt from, and what waits to be learnt."""

    enabled: bool
    version_id: int | None
    trained_at: datetime | None
    labels: int
    changes: list[str] = field(default_factory=list)
    pending_signals: int = 0
    last_run: str = ""
    problem: VersionProblem | None = None
    """Why the learnt version in use could not be used (the untrained scorer ranks)."""

    def headline(self) -> str:
        """One line for the status bar."""
        if self.problem is not None:
            head = (
                f"Ranking with the untrained scorer: learnt version {self.problem.version_id} "
                f"could not be used ({self.problem.reason})"
            )
        elif self.version_id is None:
            head = "Ranking with the untrained scorer"
        else:
            head = f"Ranking with learnt version {self.version_id} ({self.labels} signals)"
        if not self.enabled:
            return head + "; learning is off"
        if self.changes:
            head += f": {self.changes[0]}"
        return head

    def lines(self) -> list[str]:
        """Every line, for `scorer status` and the Why panel."""
        if self.problem is not None:
            out = [self.problem.message()]
        elif self.version_id is None:
            out = ["The untrained scorer ranks your items."]
        else:
            when = "?"
            if self.trained_at is not None:
                when = self.trained_at.astimezone().strftime("%Y-%m-%d %H:%M")
            out = [
                f"Learnt version {self.version_id} ranks your items: trained {when} "
                f"on {self.labels} signals."
            ]
            out += [f"  {c[0].upper()}{c[1:]}." for c in self.changes]
        out.append(
            "Learning is on: votes and triage are learnt in the background."
            if self.enabled
            else "Learning is off (Settings): the scorer stays as it is."
        )
        if self.pending_signals:
            out.append(f"{self.pending_signals} new signals not learnt from yet.")
        if self.last_run:
            out.append(f"Last run: {self.last_run}")
        return out


def learning_status(
    versions: Sequence[Mapping[str, Any]],
    *,
    enabled: bool,
    pending: int,
    problem: VersionProblem | None = None,
) -> LearningStatus:
    """The status from the recorded training runs (``FocusDesk.learning.versions``) and,
    where the active version could not be used, why (``Ranker.model_problem``)."""
    active = next((v for v in versions if v["active"]), None)
    runs = [v for v in versions if not v["metrics"].get("reset")]
    last = ""
    if runs and runs[-1] is not active:
        m = runs[-1]["metrics"]
        last = (
            f"on {runs[-1]['labels']} signals, not better held out "
            f"({percent(m.get('held_out_accuracy_current', math.nan))} → "
            f"{percent(m.get('held_out_accuracy_new', math.nan))}); kept the one in use."
        )
    if active is None or problem is not None:
        return LearningStatus(enabled, None, None, 0, [], pending, last, problem)
    m = active["metrics"]
    changes = list(m.get("changes") or [])
    return LearningStatus(
        enabled,
        int(active["id"]),
        active["created_at"],
        int(active["labels"]),
        changes,
        pending,
        last,
    )
