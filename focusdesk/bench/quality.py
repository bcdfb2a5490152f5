"""`focusdesk bench quality`: ranking quality against graded labels, before and after votes.

For each goal of a labelled set (goals JSON with graded labels per category, a TSV of
message id → category, an mbox), it ranks every message with: BM25 over the FTS5
index; single-vector cosine (the mean of an item's passages); max-passage cosine;
the attention scorer untrained; and the attention scorer after N simulated votes. The
simulated user is shown the top 10 items it has not voted on, votes each up if its
label is positive and down if not, and the scorer learns when the app's own trigger
says so (enough new signals, or a quiet moment) with the app's own trainer, on a
simulated clock. At every vote count the untrained scorer is judged on the same items
not voted on. Reported per goal and on average: nDCG@10 (graded gains), P@10 and
AP@100 (relevant = any positive grade); on the whole ranking and on the items the user
has not voted on ("unseen").

With ``joint``, it also ranks with every goal active at once (at its weight, plus a goal
that nothing in the set serves) and reports what a person reading one list meets:
coverage@10/@20 (goals with a primary-topic item in the top 10/20), α-nDCG@20 (α 0.5,
each goal an intent, relevant at grade 1 or more), proportionality@50 (seat shares
against fair shares by weight, a row's seat being the goal it is shown for), the rows
shown for the goal nothing serves, and precision@50 (rows relevant to the goal they are
shown for).
"""

from __future__ import annotations

import csv
import json
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, text

from focusdesk.app import FocusDesk
from focusdesk.rank.metrics import (
    alpha_ndcg_at_k,
    average_precision,
    coverage_at_k,
    ndcg_at_k,
    precision_at_k,
    proportionality_at_k,
)
from focusdesk.store.models import Feedback, ScorerVersion

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder

METRICS = ("ndcg@10", "p@10", "ap@100")
ABSENT_GOAL = "I'm learning to bake sourdough bread: starters, hydration and oven temperatures."
"""The goal added to a joint run that nothing in the dev set serves."""
ABSENT_ID = "absent"
JOINT_ALPHA = 0.5
JOINT_DEPTH = 50
"""Rows judged for proportionality, precision and the absent goal's rows."""


@dataclass
class GoalSpec:
    """One goal of the labelled set."""

    id: str
    text: str
    labels: dict[str, int]
    weight: float = 1.0


@dataclass
class QualityReport:
    """Every figure of one benchmark run."""

    votes: list[int]
    per_goal: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    mean: dict[str, dict[str, float]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    joint: dict[str, Any] = field(default_factory=dict)
    """All goals at once (``joint_figures``); empty unless asked for."""


def evaluate(
    ranked_ids: list[str], spec: GoalSpec, category: dict[str, str], exclude: set[str] | None = None
) -> dict[str, float]:
    """nDCG@10, P@10 and AP@100 of a ranking of external ids (optionally minus some)."""
    exclude = exclude or set()
    ranked = [e for e in ranked_ids if e not in exclude]
    pool = [e for e in category if e not in exclude]
    gains = [spec.labels.get(category.get(e, ""), 0) for e in ranked]
    all_gains = [spec.labels.get(category[e], 0) for e in pool]
    relevant = [g > 0 for g in gains]
    total = sum(1 for g in all_gains if g > 0)
    return {
        "ndcg@10": ndcg_at_k(gains, all_gains, 10),
        "p@10": precision_at_k(relevant, 10),
        "ap@100": average_precision(relevant, total, k=100),
    }


class LabelledSetError(ValueError):
    """The labels or goals file cannot be read as a labelled set."""


def load_labelled_set(labels_tsv: Path, goals_json: Path) -> tuple[dict[str, str], list[GoalSpec]]:
    """(message id → category, goals) from the development-set formats."""
    try:
        with labels_tsv.open(encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t")
            next(reader, None)
            category = {row[0]: row[1].strip() for row in reader if len(row) >= 2}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelledSetError(f"cannot read the labels {labels_tsv}: {exc}") from None
    if not category:
        raise LabelledSetError(f"{labels_tsv} holds no 'message id<TAB>category' lines")
    try:
        data = json.loads(goals_json.read_text(encoding="utf-8"))
        goals = [
            GoalSpec(
                str(g.get("id", n)),
                g["goal"],
                {k: int(v) for k, v in g["labels"].items()},
                float(g.get("weight", 1.0)),
            )
            for n, g in enumerate(data["goals"] if isinstance(data, dict) else data)
        ]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LabelledSetError(f"cannot read the goals {goals_json}: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise LabelledSetError(
            f"{goals_json}: each goal needs 'goal' (its text) and 'labels' "
            f"(category → grade); missing or wrong: {exc}"
        ) from None
    if not goals:
        raise LabelledSetError(f"{goals_json} holds no goals")
    if any(not g.weight > 0 for g in goals):
        raise LabelledSetError(f"{goals_json}: a goal's weight must be above 0")
    return category, goals


def bm25_ranking(fd: FocusDesk, query: str) -> list[str]:
    """External ids ranked by FTS5 BM25 for the query's content words (OR'd): the lexical
    prior's own query (``rank/lexical.py``)."""
    from focusdesk.rank.lexical import bm25_strengths

    strengths = bm25_strengths(fd.store, [query])
    ext = _external_id_map(fd)
    return [ext[i] for i in sorted(strengths, key=lambda i: (-strengths[i], i))]


def cosine_rankings(fd: FocusDesk, goal_text: str) -> tuple[list[str], list[str]]:
    """(mean-of-passages cosine, max-passage cosine) rankings of external ids."""
    from focusdesk.rank.passages import encode_cached

    ranker = fd.ranker
    layout = ranker.layout()
    vectors = fd.index.vectors
    q = encode_cached(fd.store, fd.encoder, [goal_text])[0]
    sims = vectors @ q
    mean_s = np.zeros(len(layout.item_ids))
    max_s = np.zeros(len(layout.item_ids))
    for k in range(len(layout.item_ids)):
        rows = np.arange(layout.starts[k], layout.starts[k] + layout.counts[k])
        rows = rows[layout.is_passage[rows]]
        if not len(rows):
            continue
        v = vectors[layout.rows[rows]].mean(axis=0)
        mean_s[k] = float(v @ q) / max(1e-9, float(np.linalg.norm(v)))
        max_s[k] = float(sims[layout.rows[rows]].max())
    ext = _external_ids(fd, layout.item_ids)
    return (
        [ext[i] for i in np.argsort(-mean_s, kind="stable")],
        [ext[i] for i in np.argsort(-max_s, kind="stable")],
    )


def _external_id_map(fd: FocusDesk) -> dict[int, str]:
    with fd.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, external_id FROM items")).all()
    return {int(item_id): str(external_id) for item_id, external_id in rows}


def _external_ids(fd: FocusDesk, item_ids: np.ndarray) -> list[str]:
    mapping = _external_id_map(fd)
    return [mapping[int(i)] for i in item_ids]


def ranked_external_ids(fd: FocusDesk) -> list[str]:
    """The whole ranking as external ids, each story's collapsed members right after it.

    Every message keeps its own place: the labels grade messages, and a conversation
    shown as one row hides its other messages rather than moving them up.
    """
    ranked = fd.ranking.rank(None, conversations=False)
    ext = _external_id_map(fd)
    out: list[str] = []
    for r in ranked:
        out.append(r.external_id)
        out.extend(ext[i] for i in r.story_item_ids)
    return out


def _reset_learning(fd: FocusDesk) -> None:
    with fd.store.session() as s:
        s.execute(delete(Feedback))
        s.execute(delete(ScorerVersion))
    fd.learning.reset()


def run_quality(
    mbox: Path,
    labels_tsv: Path,
    goals_json: Path,
    *,
    votes: list[int],
    data_dir: Path | None = None,
    log: Any = print,
    encoder: Encoder | None = None,
    joint: bool = False,
    absent_goal: str | None = ABSENT_GOAL,
) -> QualityReport:
    """Run the benchmark; builds (or reuses) a profile holding the mbox. With ``joint``,
    also rank with every goal at once (plus ``absent_goal``, unless None or empty)."""
    from focusdesk.paths import resolve_paths

    category, goals = load_labelled_set(labels_tsv, goals_json)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="focusdesk-bench-quality-"))
    fd = FocusDesk(resolve_paths(data_dir), encoder=encoder)
    fd.settings.learning_enabled = True  # measured as the app learns by default
    report = QualityReport(votes=sorted(set(votes) | {0}))
    try:
        sources = fd.sources.all()
        if not sources:
            fd.sources.add("mbox", str(mbox), name="bench")
        elif [(src.kind, src.uri) for src in sources] != [("mbox", str(mbox.resolve()))]:
            raise LabelledSetError(
                f"the profile in {data_dir} holds other sources than {mbox}; "
                "give an empty folder or one made by this benchmark for this mbox"
            )
        t0 = time.perf_counter()
        summary = fd.sources.sync()
        seconds = time.perf_counter() - t0
        added = summary.total("added")
        report.meta["sync_seconds"] = round(seconds, 1)
        report.meta["items"] = fd.counts()["items"]
        report.meta["device"] = fd.encoder.device.device if fd.encoder.device else "cpu"
        line = (
            f"profile: {report.meta['items']} items ({summary.chunks_encoded} passages encoded "
            f"now, {report.meta['sync_seconds']} s"
        )
        if added and seconds > 0:
            report.meta["items_per_second"] = round(added / seconds, 1)
            report.meta["passages_per_second"] = round(summary.chunks_encoded / seconds, 1)
            line += (
                f"; {report.meta['items_per_second']} items/s, "
                f"{report.meta['passages_per_second']} passages/s on {report.meta['device']}"
            )
        log(line + ")")
        for g in fd.goals.all():
            fd.goals.remove(g.id)
        for spec in goals:
            report.per_goal[spec.id] = _run_goal(fd, spec, category, report.votes, log)
        _reset_learning(fd)
        if joint:
            report.joint = run_joint(fd, goals, category, absent_goal)
    finally:
        fd.close()
    methods = next(iter(report.per_goal.values())).keys() if report.per_goal else []
    for method in methods:
        report.mean[method] = {
            m: statistics.mean(report.per_goal[g][method][m] for g in report.per_goal)
            for m in next(iter(report.per_goal.values()))[method]
        }
    report.meta.update(
        {
            "machine": platform.platform(),
            "python": platform.python_version(),
            "command": " ".join(sys.argv),
            "data_dir": str(data_dir),
        }
    )
    return report


def run_joint(
    fd: FocusDesk, goals: list[GoalSpec], category: dict[str, str], absent_goal: str | None
) -> dict[str, Any]:
    """Rank once with every goal active at its weight (and ``absent_goal`` at weight 1)
    through the app's own ``rank``, and judge the list with ``joint_figures``."""
    added: dict[int, str] = {}
    try:
        for spec in goals:
            added[fd.goals.add(spec.text, weight=spec.weight).id] = spec.id
        if absent_goal and absent_goal.strip():
            added[fd.goals.add(absent_goal).id] = ABSENT_ID
        rows = fd.ranking.rank(None)
    finally:
        for goal_id in added:
            fd.goals.remove(goal_id)
    shown = [(r.external_id, added.get(r.goal_id) if r.goal_id is not None else None) for r in rows]
    figures = joint_figures(shown, goals, category)
    figures["absent_goal"] = absent_goal if absent_goal and absent_goal.strip() else None
    return figures


def joint_figures(
    shown: list[tuple[str, str | None]], goals: list[GoalSpec], category: dict[str, str]
) -> dict[str, Any]:
    """The joint figures of one list: ``shown`` is (external id, id of the goal the row is
    shown for, ``ABSENT_ID`` for the goal nothing serves) per row, best first."""

    def grades(ext: str) -> dict[str, int]:
        cat = category.get(ext, "")
        return {g.id: g.labels.get(cat, 0) for g in goals}

    primary = [{g for g, v in grades(e).items() if v >= 2} for e, _ in shown]
    relevant = [{g for g, v in grades(e).items() if v >= 1} for e, _ in shown]
    judged = [{g for g, v in grades(e).items() if v >= 1} for e in category]
    served = {g.id for g in goals if any(v >= 1 for v in g.labels.values())}
    seats = [goal for _, goal in shown]
    with_primary = {g.id for g in goals if any(v >= 2 for v in g.labels.values())}
    depth = min(JOINT_DEPTH, len(shown)) or JOINT_DEPTH
    held = {g.id: 0 for g in goals} | {ABSENT_ID: 0}
    for goal in seats[:depth]:
        if goal in held:
            held[goal] += 1
    weights = {g.id: g.weight for g in goals if g.id in served}
    return {
        "goals": len(goals),
        "goals_with_primary": len(with_primary),
        "coverage@10": coverage_at_k(primary, with_primary, 10),
        "coverage@20": coverage_at_k(primary, with_primary, 20),
        "alpha_ndcg@20": alpha_ndcg_at_k(relevant, judged, JOINT_ALPHA, 20),
        "alpha_ndcg@20_one_goal_rows": alpha_ndcg_at_k(
            one_goal_rows(seats, judged, served, 20), judged, JOINT_ALPHA, 20
        ),
        "proportionality@50": proportionality_at_k(seats, weights, JOINT_DEPTH) if weights else 0.0,
        "absent_rows@50": held[ABSENT_ID],
        "precision@50": precision_at_k(
            [goal is not None and goal in rel for goal, rel in zip(seats, relevant, strict=True)],
            JOINT_DEPTH,
        ),
        "seats@50": held,
    }


def one_goal_rows(
    seats: list[str | None], judged: list[set[str]], served: set[str], k: int
) -> list[set[str]]:
    """The intents the first ``k`` rows would have, were each filled by an item relevant to
    the goal it is shown for and to as few other goals as the judged items allow (a row for
    a goal nothing serves, or for none, stays irrelevant).

    Their α-nDCG is what the same seats reach with every row right for its goal but no row
    serving two goals: the part of α-nDCG@k that only items serving several goals at once
    can add lies above it.
    """
    queues = {g: sorted((intents for intents in judged if g in intents), key=len) for g in served}
    rows: list[set[str]] = []
    for goal in seats[:k]:
        queue = queues.get(goal) if goal is not None else None
        rows.append(queue.pop(0) if queue else set())
    return rows


def format_joint(figures: dict[str, Any]) -> str:
    """The joint figures as a few lines of text."""
    n = figures["goals_with_primary"]
    seats = ", ".join(f"{g} {c}" for g, c in figures["seats@50"].items())
    return "\n".join(
        [
            "all goals at once"
            + (
                f" (with the goal nothing serves: {figures['absent_goal']!r})"
                if figures.get("absent_goal")
                else ""
            ),
            f"  coverage@10 {figures['coverage@10']}/{n}  coverage@20 {figures['coverage@20']}/{n}",
            f"  alpha-nDCG@20 {figures['alpha_ndcg@20']:.3f}  "
            f"proportionality@50 {figures['proportionality@50']:.3f}  "
            f"precision@50 {figures['precision@50']:.2f}  "
            f"rows for the goal nothing serves (top 50) {figures['absent_rows@50']}",
            f"  seats in the top 50: {seats}",
            "  alpha-nDCG@20 had every row served only the goal it is shown for (same seats): "
            f"{figures['alpha_ndcg@20_one_goal_rows']:.3f}",
        ]
    )


READ_SECONDS = 5.0
"""Simulated time a user spends on each item before voting (the trigger's clock)."""


def _run_goal(
    fd: FocusDesk, spec: GoalSpec, category: dict[str, str], votes: list[int], log: Any
) -> dict[str, dict[str, float]]:
    """One goal: baselines, then votes given as a user would, learnt from as the app does.

    Learning goes through the app's own trigger (``fd.learning.auto``: after enough new
    signals, or a quiet moment) and trainer, on a simulated clock: each vote takes
    ``READ_SECONDS``; before each measurement the user pauses long enough for the quiet
    moment. At every vote count, the trained and the untrained scorer are judged on the
    same items, those not voted on.
    """
    _reset_learning(fd)
    goal = fd.goals.add(spec.text)
    out: dict[str, dict[str, float]] = {}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        out["bm25"] = evaluate(bm25_ranking(fd, spec.text), spec, category)
        mean_rank, max_rank = cosine_rankings(fd, spec.text)
        out["cosine_mean"] = evaluate(mean_rank, spec, category)
        out["cosine_max_passage"] = evaluate(max_rank, spec, category)
        untrained = ranked_external_ids(fd)  # votes do not move the untrained scorer
        out["attention_untrained"] = evaluate(untrained, spec, category)
        ranking = untrained
        by_ext = {e: i for i, e in _external_id_map(fd).items()}
        voted: set[str] = set()
        train_seconds: list[float] = []

        def learn(at: datetime) -> None:
            nonlocal ranking
            result = fd.learning.auto.run_if_due(at)
            if result is None:
                return
            train_seconds.append(float(result.metrics.get("seconds", 0.0)))
            if result.accepted:
                ranking = ranked_external_ids(fd)

        for target in [v for v in votes if v > 0]:
            while len(voted) < target:
                shown = [e for e in ranking if e not in voted][: min(10, target - len(voted))]
                if not shown:
                    break
                for ext in shown:
                    up = spec.labels.get(category.get(ext, ""), 0) > 0
                    fd.items.record_feedback(by_ext[ext], "up" if up else "down")
                    voted.add(ext)
                    now += timedelta(seconds=READ_SECONDS)
                    learn(now)
            now += timedelta(seconds=fd.settings.learn_quiet_seconds)
            learn(now)  # the user pauses: a quiet moment
            out[f"attention_{target}_votes"] = evaluate(ranking, spec, category)
            out[f"attention_{target}_votes_unseen"] = evaluate(
                ranking, spec, category, exclude=voted
            )
            out[f"attention_untrained_{target}_votes_unseen"] = evaluate(
                untrained, spec, category, exclude=voted
            )
        if train_seconds:
            out["train_seconds"] = {
                "median": statistics.median(train_seconds),
                "max": max(train_seconds),
                "runs": float(len(train_seconds)),
            }
    finally:
        fd.goals.remove(goal.id)
    line = "  ".join(
        f"{k}={v['ndcg@10']:.3f}/{v['p@10']:.2f}/{v['ap@100']:.3f}"
        for k, v in out.items()
        if "ndcg@10" in v
    )
    log(f"{spec.id}: {line}")
    return out


def unseen_comparison(report: QualityReport, metric: str = "ap@100") -> list[str]:
    """At each vote count: untrained → trained on the items not voted on (mean over goals),
    and the goals where training made those items rank worse."""
    lines = []
    for v in report.votes:
        key, base = f"attention_{v}_votes_unseen", f"attention_untrained_{v}_votes_unseen"
        if v == 0 or key not in report.mean or base not in report.mean:
            continue
        worse = [
            g
            for g, figures in report.per_goal.items()
            if figures[key][metric] < figures[base][metric]
        ]
        lines.append(
            f"{v:>4} votes, {metric} on items not voted on: untrained "
            f"{report.mean[base][metric]:.3f} → trained {report.mean[key][metric]:.3f}; "
            f"goals worse: {len(worse)}{' (' + ', '.join(worse) + ')' if worse else ''}"
        )
    return lines


def format_table(report: QualityReport) -> str:
    """Per goal, then the mean over goals, as fixed-width tables."""
    sections = [(f"goal {goal}", figures) for goal, figures in report.per_goal.items()]
    sections.append(("mean over goals", report.mean))
    lines: list[str] = []
    for heading, figures in sections:
        lines.append(f"{heading:<34} {'nDCG@10':>8} {'P@10':>6} {'AP@100':>7}")
        for method, m in figures.items():
            if "ndcg@10" in m:
                lines.append(
                    f"  {method:<32} {m['ndcg@10']:>8.3f} {m['p@10']:>6.2f} {m['ap@100']:>7.3f}"
                )
        lines.append("")
    lines += unseen_comparison(report)
    if report.joint:
        lines += ["", format_joint(report.joint)]
    return "\n".join(lines).rstrip()


def plot(report: QualityReport, path: Path) -> None:
    """PNG of quality against votes, with the baselines as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(13, 4), dpi=110)
    xs = report.votes
    for ax, metric in zip(axes, METRICS, strict=True):
        ys = [
            report.mean["attention_untrained" if v == 0 else f"attention_{v}_votes"][metric]
            for v in xs
        ]
        ax.plot(xs, ys, marker="o", label="attention scorer (all items)")
        voted_xs = [v for v in xs if v > 0]
        if voted_xs:
            ax.plot(
                voted_xs,
                [report.mean[f"attention_{v}_votes_unseen"][metric] for v in voted_xs],
                marker="s",
                linestyle="--",
                label="trained, items not voted on",
            )
            ax.plot(
                voted_xs,
                [report.mean[f"attention_untrained_{v}_votes_unseen"][metric] for v in voted_xs],
                marker="x",
                linestyle=":",
                label="untrained, the same items",
            )
        for name, style in (("bm25", ":"), ("cosine_mean", "-."), ("cosine_max_passage", "--")):
            ax.axhline(report.mean[name][metric], linestyle=style, color="grey", linewidth=1)
            ax.annotate(
                name,
                (xs[-1], report.mean[name][metric]),
                fontsize=7,
                color="grey",
                ha="right",
                va="bottom",
            )
        ax.set_title(metric)
        ax.set_xlabel("simulated votes")
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("FocusDesk ranking quality against votes (mean over goals)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
