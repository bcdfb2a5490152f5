"""`focusdesk bench rank`: FocusDesk's own calls, timed on a generated profile of real size.

The profile (``bench.profile``: store, chunks, vectors, index files, goals) is opened
with ``FocusDesk.open`` as the app opens it, and the calls the app makes today are
timed, each after one warm-up:

- full re-rank: ``FocusDesk.ranking.arrays()``, the ranking as arrays (every row's item id,
  score, goal, evidence chunk, per-goal relevance), with the candidates' scores reused
  while nothing they were computed from changed; and the same with the candidates
  scored again (``Ranker.forget_scores`` first: a changed goal; the candidates'
  projected keys are kept), and with their keys projected again too
  (``forget_scores(keys=True)``: a new scorer or item set, once it is loaded);
- after a goal edit: one goal's description edited through ``desk.goals`` (two texts
  in turn), then ``ranking.arrays()``, and with ``ranking.rank_inbox()`` (what the
  inbox calls to re-rank after a change: every row described, the ranking stored);
  and a goal's weight edited, then ``arrays()``;
- first page: what a view of 50 rows calls before it can show them
  (``triage.wake_due``, ``ranking()``, ``triage.votes``, ``triage.pinned`` of the
  ranked rows, then
  ``describe`` of the first 50 rows: their fields and explanations: goal, evidence,
  priors, goal scores);
- ``rank()``: every row described (a ``list[RankedItem]``, as ``focus plan`` and the
  stored ranking use it), and ``rank(top=50)``: only 50 described
  (``focusdesk rank --top 50``);
- one Why panel: what the reader calls when an item is selected (``get_item``; the
  explanation itself is the row of the last ranking), over the first page's items;
- the peak RSS of this process;
- in fresh processes: ``focusdesk rank --top 20`` on the unchanged profile, and a cold
  import of the CLI and app, and of the ranking stack (torch, sentence-transformers).

With more chunks than the candidate pass's threshold, the candidate pass's recall@100
and @10 against exact scoring of every item are measured too (``Ranker.score``).
Targets are those of issue 11, on a 2-core CPU.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from focusdesk.bench.profile import ProfileSpec, ensure_profile
from focusdesk.errors import KnownError

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder

PAGE = 50
"""Rows the inbox shows first."""
TARGETS = {
    "full_rerank_p50_ms": 150.0,
    "first_page_p50_ms": 200.0,
    "why_panel_p50_ms": 50.0,
    "peak_rss_mb": 1536.0,
    "rank_top20_cli_p50_s": 1.0,
}
"""Issue 11's targets (100k items / 250k chunks / 10 goals, 2-core CPU)."""


@dataclass(frozen=True)
class RankBenchConfig:
    """What `focusdesk bench rank` measures."""

    items: int = 100_000
    chunks: int = 250_000
    goals: int = 10
    seed: int = 0
    runs: int = 5
    cli_runs: int = 3
    profile_dir: Path | None = None

    @property
    def spec(self) -> ProfileSpec:
        return ProfileSpec(items=self.items, chunks=self.chunks, goals=self.goals, seed=self.seed)

    def validate(self) -> None:
        """Raise ValueError for a configuration that cannot be measured."""
        self.spec.validate()
        if self.runs < 1:
            raise ValueError("--runs must be at least 1")
        if self.cli_runs < 0:
            raise ValueError("--cli-runs must not be negative")

    def command(self) -> str:
        """The command line that repeats this measurement."""
        args = [
            "focusdesk",
            "bench",
            "rank",
            f"--items={self.items}",
            f"--chunks={self.chunks}",
            f"--goals={self.goals}",
            f"--seed={self.seed}",
            f"--runs={self.runs}",
            f"--cli-runs={self.cli_runs}",
        ]
        if self.profile_dir is not None:
            args.append(f"--profile-dir={self.profile_dir}")
        return shlex.join(args)


def peak_rss_mb() -> float:
    """The peak resident set of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_model() -> str:
    """The CPU's model name."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ms_summary(seconds: list[float]) -> dict[str, Any]:
    """p50, p90 and min of some timings, in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, math.ceil(0.9 * len(ms)) - 1)]
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(p90, 2),
        "min_ms": round(ms[0], 2),
        "runs": len(ms),
        "all_ms": [round(m, 2) for m in ms],
    }


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def cli_command(profile: Path) -> list[str]:
    """`focusdesk --data-dir PROFILE rank --top 20`, run by this Python."""
    return [sys.executable, "-m", "focusdesk", "--data-dir", str(profile), "rank", "--top", "20"]


IMPORTS = {
    "cli_and_app": "import focusdesk.cli, focusdesk.app",
    "ranking_stack": "import torch, faiss, sentence_transformers",
}
"""What a fresh process imports: before any verb runs, and for ranking today."""


def time_processes(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds of ``runs`` fresh processes of ``argv`` (each must succeed)."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return {
        "command": shlex.join(argv),
        "p50_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "runs": runs,
    }


def run_rank_bench(
    config: RankBenchConfig,
    progress: Callable[[str], None] | None = None,
    *,
    encoder: Encoder | None = None,
) -> dict[str, Any]:
    """Generate (or reuse) the profile, measure, and return the results as a JSON-ready
    dict. ``encoder`` replaces the configured model in this process (tests); the fresh
    processes always use the configured one."""
    config.validate()
    say = progress or (lambda _: None)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="focusdesk-bench-") as tmp:
        folder = config.profile_dir or Path(tmp) / "profile"
        if encoder is None:
            profile = prepare_apart(folder, config.spec, say)
        else:
            profile = ensure_profile(folder, config.spec, encoder, say=say).to_json()
        profile_dir = Path(profile["folder"])
        result = _measure(config, profile_dir, encoder, say)
        result["profile"] = profile
        if config.cli_runs:
            say(f"timing `focusdesk rank --top 20` and cold imports ({config.cli_runs} runs)")
            env = dict(os.environ)
            env.pop("FOCUSDESK_DATA_DIR", None)  # --data-dir names the profile
            result["processes"] = {
                "rank_top20": time_processes(cli_command(profile_dir), config.cli_runs, env),
                **{
                    name: time_processes([sys.executable, "-c", code], config.cli_runs, env)
                    for name, code in IMPORTS.items()
                },
            }
    result["command"] = config.command()
    result["config"] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()
    }
    result["machine"] = _machine(load_before)
    result["targets"] = TARGETS
    result["met"] = _met(result)
    return result


PREPARE = """
import json, sys
from pathlib import Path
from focusdesk.bench.profile import ProfileSpec, ensure_profile
from focusdesk.errors import KnownError
try:
    info = ensure_profile(
        Path(sys.argv[1]),
        ProfileSpec(**json.loads(sys.argv[2])),
        say=lambda m: print(m, file=sys.stderr),
    )
except KnownError as exc:
    sys.exit(f"focusdesk: {exc.user_text()}")
print(json.dumps(info.to_json()))
"""


def prepare_apart(folder: Path, spec: ProfileSpec, say: Callable[[str], None]) -> dict[str, Any]:
    """`ensure_profile` in a fresh process, so that this one's peak memory is that of the
    calls measured alone; returns the profile's description."""
    with subprocess.Popen(
        [sys.executable, "-c", PREPARE, str(folder), json.dumps(asdict(spec))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        lines = []
        for line in child.stderr:
            lines.append(line.rstrip())
            say(lines[-1])
        out = child.stdout.read()
    if child.returncode != 0:
        said = [n for n, line in enumerate(lines) if line.startswith("focusdesk: ")]
        reason = (
            " ".join(lines[said[-1] :]).removeprefix("focusdesk: ")
            if said
            else f"exit status {child.returncode}"
        )
        raise KnownError(f"The benchmark profile could not be prepared: {reason}")
    info: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return info


def _measure(
    config: RankBenchConfig, folder: Path, encoder: Encoder | None, say: Callable[[str], None]
) -> dict[str, Any]:
    from focusdesk.app import FocusDesk

    rss_start = peak_rss_mb()
    open_s, desk = _timed(lambda: FocusDesk.open(folder, encoder))
    try:
        say("warming up: the first rank loads the model, the index and the projected keys")
        first_s, ranked = _timed(lambda: desk.ranking.rank())
        counts = desk.counts()

        say(f"timing {config.runs} full re-ranks (arrays), then as many with scoring")
        full = [_timed(lambda: desk.ranking.arrays())[0] for _ in range(config.runs)]

        def rescored() -> Any:
            desk.ranker.forget_scores()
            return desk.ranking.arrays()

        full_rescored = [_timed(rescored)[0] for _ in range(config.runs)]

        def reprojected() -> Any:
            desk.ranker.forget_scores(keys=True)
            return desk.ranking.arrays()

        full_reprojected = [_timed(reprojected)[0] for _ in range(config.runs)]

        say(f"timing the re-rank after {2 * config.runs} goal edits, then weight edits")
        edits = _goal_edits(desk, config.runs)

        def inbox_job() -> list[Any]:
            desk.triage.wake_due()
            ranking = desk.ranking.arrays()
            desk.triage.votes()
            # Which of the ranked rows are pinned: by id (an unindexed scan of every
            # item's row, text and all, when asked for all of them).
            desk.triage.pinned(ranking.item_ids.tolist())
            return desk.ranking.describe(ranking, range(PAGE))

        say(f"timing {config.runs} first pages as a view of {PAGE} rows gets them")
        pages = [_timed(inbox_job) for _ in range(config.runs)]
        page = pages[-1][1]
        described = [_timed(lambda: desk.ranking.rank())[0] for _ in range(config.runs)]
        top50 = [_timed(lambda: desk.ranking.rank(PAGE))[0] for _ in range(config.runs)]

        say(f"timing the Why panel of each of the first {len(page)} items")
        desk.items.get(page[0].item_id)  # warm-up
        why = [_timed(partial(desk.items.get, r.item_id))[0] for r in page]
        rss_timed = peak_rss_mb()
        recall = _recall(desk)
        data = {
            **counts,
            "text_chars_mean": _mean_chars(desk),
            "index_chunks": len(desk.index),
            "candidate_pass": recall is not None,
        }
    finally:
        desk.close()
    return {
        "benchmark": "rank",
        "data": data,
        "open_s": round(open_s, 3),
        "first_rank_s": round(first_s, 3),
        "rows_ranked": len(ranked),
        "full_rerank": ms_summary(full),
        "full_rerank_rescored": ms_summary(full_rescored),
        "full_rerank_reprojected": ms_summary(full_reprojected),
        **edits,
        "first_page": {**ms_summary([s for s, _ in pages]), "rows": len(page)},
        "rank_described": ms_summary(described),
        "rank_top50": ms_summary(top50),
        "why_panel": ms_summary(why),
        "recall": recall,
        "peak_rss_mb": {
            "before_open": round(rss_start, 1),
            "after_timings": round(rss_timed, 1),
            "after_recall": round(peak_rss_mb(), 1),
        },
        "example_row": page[0].to_json() if page else None,
    }


def edited_text(description: str) -> str:
    """Another text for a goal's description: its last listed thing dropped ("Build
    projects: disk, sofa and radar" -> "Build projects: disk and sofa"), else " and
    reviews" added."""
    head, sep, _ = description.rpartition(" and ")
    if sep and ", " in head:
        first, _, last = head.rpartition(", ")
        return f"{first} and {last}"
    return f"{description} and reviews"


def _goal_edits(desk: Any, runs: int) -> dict[str, Any]:
    """The re-rank after a goal edit, as the app does it: one goal's description edited
    through ``desk.goals`` (alternately two texts, so that each edit is real), then
    ``ranking.arrays()`` (the full re-rank figure's call), and with ``ranking.rank_inbox()``
    (what the inbox calls to re-rank: every row described, the ranking stored). Each text
    is met once before the timings (the first edit to a text also encodes its new facets,
    fits its calibration and its BM25 column; that first edit is reported apart). Then
    weight edits (alternately two weights) with ``arrays()``. The goal is put back and the
    stored ranking computed again at the end, so the profile is as it was."""
    goals = desk.goals.all(include_inactive=False)
    goal = goals[1] if len(goals) > 1 else goals[0]
    texts = [goal.description, edited_text(goal.description)]
    weights = [goal.weight, round(goal.weight + 0.5, 1) if goal.weight <= 9 else 1.0]

    def edit(**change: Any) -> float:
        seconds, _ = _timed(lambda: desk.goals.update(goal.id, **change))
        return seconds

    try:
        edit(description=texts[1])
        first_s, _ = _timed(lambda: desk.ranking.arrays())
        edit(description=texts[0])
        desk.ranking.arrays()
        results: dict[str, Any] = {}
        for name, call in (
            ("goal_edit_rerank", desk.ranking.arrays),
            ("goal_edit_rank_inbox", desk.ranking.rank_inbox),
        ):
            seconds, writes = [], []
            for n in range(2 * runs):
                writes.append(edit(description=texts[(n + 1) % 2]))
                seconds.append(_timed(call)[0])
            results[name] = {**ms_summary(seconds), "edit": ms_summary(writes)}
        weighted = []
        for n in range(2 * runs):
            edit(weight=weights[(n + 1) % 2])
            weighted.append(_timed(lambda: desk.ranking.arrays())[0])
        results["weight_edit_rerank"] = ms_summary(weighted)
        results["goal_edit_first_s"] = round(first_s, 3)
        results["goal_edit_texts"] = texts
    finally:
        desk.goals.update(goal.id, description=texts[0], weight=weights[0])
        desk.ranking.rank_inbox()  # the stored ranking of the profile as it was
    return results


def _mean_chars(desk: Any) -> dict[str, float]:
    from sqlalchemy import func, select

    from focusdesk.store.models import Item

    with desk.store.session() as s:
        text, body = s.execute(
            select(func.avg(func.length(Item.text)), func.avg(func.length(Item.body)))
        ).one()
    return {"text": round(float(text or 0), 1), "body": round(float(body or 0), 1)}


def _recall(desk: Any) -> dict[str, Any] | None:
    """The candidate pass's recall@100 and @10 against exact scoring of every item
    (None when the profile is small enough to be scored exactly anyway)."""
    from focusdesk.rank.candidates import CandidatePass, candidate_recall

    ranker = desk.ranker
    goals = ranker.active_goals()
    if not CandidatePass().needed(desk.index):  # the ranker's own threshold
        return None
    candidates, _ = ranker.score(goals)
    exact_s, (exact, _) = _timed(
        lambda: ranker.score(goals, item_ids=ranker.layout().item_ids.tolist())
    )
    return {
        "at_100": candidate_recall(exact, candidates, 100),
        "at_10": candidate_recall(exact, candidates, 10),
        "items_scored": len(candidates.item_ids),
        "exact_all_items_s": round(exact_s, 3),
    }


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    torch = sys.modules.get("torch")
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "python": platform.python_version(),
        "torch": getattr(torch, "__version__", None),
        "numpy": np.__version__,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _met(result: dict[str, Any]) -> dict[str, bool]:
    met = {
        "full_rerank_p50_ms": result["full_rerank"]["p50_ms"] <= TARGETS["full_rerank_p50_ms"],
        "first_page_p50_ms": result["first_page"]["p50_ms"] <= TARGETS["first_page_p50_ms"],
        "why_panel_p50_ms": result["why_panel"]["p50_ms"] <= TARGETS["why_panel_p50_ms"],
        "peak_rss_mb": result["peak_rss_mb"]["after_timings"] <= TARGETS["peak_rss_mb"],
    }
    if "processes" in result:
        met["rank_top20_cli_p50_s"] = (
            result["processes"]["rank_top20"]["p50_s"] <= TARGETS["rank_top20_cli_p50_s"]
        )
    return met


def _verdict(result: dict[str, Any], key: str) -> str:
    unit = "s" if key.endswith("_s") else "MB" if key.endswith("_mb") else "ms"
    met = result["met"].get(key)
    word = "met" if met else "MISSED"
    return f"(target <= {TARGETS[key]:g} {unit}: {word})"


def format_report(result: dict[str, Any]) -> str:
    """The results as a short table for the terminal."""
    m, d = result["machine"], result["data"]
    p = result["profile"]
    rss = result["peak_rss_mb"]

    def ms(s: dict[str, Any]) -> str:
        return f"p50 {s['p50_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms over {s['runs']}"

    rows: list[tuple[str, str]] = [
        ("command", result["command"]),
        (
            "machine",
            f"{m['cpu']}, {m['cpus_usable']} CPUs, load {m['load_average_before'][0]:.2f} -> "
            f"{m['load_average_after'][0]:.2f} (1-min average)",
        ),
        (
            "profile",
            f"{p['folder']} ({'reused' if p['reused'] else 'generated in '}"
            f"{'' if p['reused'] else format(p['generate_s'], '.0f') + ' s'}): "
            f"{d['items']:,} items, {d['chunks']:,} chunks, {d['goals']} goals, "
            f"{d['sources']} sources; text {d['text_chars_mean']['text']:.0f} / body "
            f"{d['text_chars_mean']['body']:.0f} chars on average",
        ),
        ("open", f"{result['open_s']:.2f} s (FocusDesk.open)"),
        ("first rank", f"{result['first_rank_s']:.2f} s (model, index and keys loaded)"),
        (
            "full re-rank",
            f"{ms(result['full_rerank'])}, {result['rows_ranked']:,} rows "
            f"{_verdict(result, 'full_rerank_p50_ms')}",
        ),
        ("  rescored", f"{ms(result['full_rerank_rescored'])} (candidates scored again)"),
        (
            "  goal edit",
            f"{ms(result['goal_edit_rerank'])} (a goal's text edited, then re-ranked; "
            f"first edit to a new text {result['goal_edit_first_s']:.2f} s)",
        ),
        (
            "  inbox",
            f"{ms(result['goal_edit_rank_inbox'])} (the same edits, then the inbox's "
            "rank_inbox(): every row described and stored)",
        ),
        ("  weight edit", f"{ms(result['weight_edit_rerank'])} (a goal's weight edited)"),
        (
            "  reprojected",
            f"{ms(result['full_rerank_reprojected'])} (and their chunks' keys projected again)",
        ),
        (
            "first page",
            f"{ms(result['first_page'])}, {result['first_page']['rows']} rows "
            f"{_verdict(result, 'first_page_p50_ms')}",
        ),
        ("rank()", f"{ms(result['rank_described'])} (every row described)"),
        ("rank(top=50)", ms(result["rank_top50"])),
        ("Why panel", f"{ms(result['why_panel'])} {_verdict(result, 'why_panel_p50_ms')}"),
        (
            "peak RSS",
            f"{rss['after_timings']:.0f} MB after the timings {_verdict(result, 'peak_rss_mb')}",
        ),
    ]
    rec = result.get("recall")
    if rec:
        rows.append(
            (
                "candidate pass",
                f"recall@100 {rec['at_100']:.3f}, @10 {rec['at_10']:.2f}; "
                f"{rec['items_scored']:,} items scored exactly; scoring all items exactly "
                f"took {rec['exact_all_items_s']:.2f} s, peak RSS {rss['after_recall']:.0f} MB",
            )
        )
    procs = result.get("processes")
    if procs:
        top = procs["rank_top20"]
        rows += [
            (
                "rank --top 20",
                f"p50 {top['p50_s']:.2f} s wall over {top['runs']} fresh processes "
                f"{_verdict(result, 'rank_top20_cli_p50_s')}",
            ),
            (
                "cold import",
                f"CLI + app p50 {procs['cli_and_app']['p50_s']:.2f} s; torch + faiss + "
                f"sentence-transformers p50 {procs['ranking_stack']['p50_s']:.2f} s",
            ),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
