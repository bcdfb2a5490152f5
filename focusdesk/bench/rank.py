"""`focusdesk bench rank`: ranking latency and candidate recall on synthetic vectors.

The vectors imitate a large profile: topic centres grouped under a few broad
themes, with a direction every text shares (as sentence embeddings have); items
about one topic, some passages drifting to another; 1 to 8 chunks per item, one of
them a document chunk (the mean of its passages) when there is more than one.
Goals lie near topic centres, each with its facet queries and a weight.

Everything a ranking reuses is built first and timed apart: the vector index, the
chunk layout, the projected keys and the approximate candidate index. Then a full
rank (candidate pass, exact attention over the candidates, sort) is timed ``runs``
times, cycling over ``goal_sets`` goal sets, after one warm-up run. Every goal set is
also scored exhaustively: its time is the exhaustive latency, its top items the
truth the candidate pass's recall@100 and @10 are measured against.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from focusdesk.rank.candidates import (
    CandidateConfig,
    CandidatePass,
    candidate_recall,
    project_all_keys,
)
from focusdesk.rank.index import VectorIndex
from focusdesk.rank.scoring import ChunkLayout, ItemScores, score_items
from focusdesk.settings import Settings

TARGET_MS = 100.0
"""Median full-rank latency aimed at: 100k items / 250k chunks, 10 goals, 2-core CPU."""
MAX_CHUNKS = 8
THEMES = 20
BLOCK_ROWS = 65_536


@dataclass(frozen=True)
class RankBenchConfig:
    """What `focusdesk bench rank` measures."""

    items: int = 100_000
    chunks: int = 250_000
    goals: int = 10
    facets_per_goal: int = 1
    runs: int = 20
    goal_sets: int = 5
    seed: int = 0
    threads: int | None = None
    exact_below: int = CandidateConfig.exact_below
    hits: int = CandidateConfig.hits
    dim: int = 384
    topics: int = 200

    def validate(self) -> None:
        """Raise ValueError for a configuration that cannot be generated."""
        if self.items < 1:
            raise ValueError("--items must be at least 1")
        if not self.items <= self.chunks <= MAX_CHUNKS * self.items:
            raise ValueError(f"--chunks must lie between --items and {MAX_CHUNKS} x --items")
        if not 1 <= self.goals <= self.topics:
            raise ValueError(f"--goals must lie between 1 and {self.topics}")
        if not 1 <= self.facets_per_goal <= 12:
            raise ValueError("--facets-per-goal must lie between 1 and 12")
        if self.runs < 1 or self.goal_sets < 1:
            raise ValueError("--runs and --goal-sets must be at least 1")
        if self.threads is not None and self.threads < 1:
            raise ValueError("--threads must be at least 1")
        if self.hits < 1 or self.exact_below < 0:
            raise ValueError("--hits must be positive and --exact-below not negative")

    def command(self) -> str:
        """The command line that repeats this measurement."""
        args = [
            "focusdesk",
            "bench",
            "rank",
            f"--items={self.items}",
            f"--chunks={self.chunks}",
            f"--goals={self.goals}",
            f"--facets-per-goal={self.facets_per_goal}",
            f"--runs={self.runs}",
            f"--goal-sets={self.goal_sets}",
            f"--seed={self.seed}",
            f"--exact-below={self.exact_below}",
            f"--hits={self.hits}",
        ]
        if self.threads is not None:
            args.append(f"--threads={self.threads}")
        return shlex.join(args)


@dataclass
class SyntheticProfile:
    """Chunk vectors in index order, their ids and the layout of items over them."""

    ids: np.ndarray  # [V] chunk ids
    vectors: np.ndarray  # [V, d] float32, L2-normalised
    layout: ChunkLayout
    centres: np.ndarray  # [T, d] topic centres
    popularity: np.ndarray  # [T] share of items per topic


@dataclass
class GoalSet:
    """Facet queries of some goals, as `score_items` takes them."""

    queries: np.ndarray  # [F, d]
    weights: np.ndarray  # [F]
    owner: np.ndarray  # [F] goal index


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _noise(rng: np.random.Generator, n: int, dim: int, scale: float) -> np.ndarray:
    """Gaussian rows of expected norm ``scale``."""
    return rng.standard_normal((n, dim), dtype=np.float32) * np.float32(scale / math.sqrt(dim))


def _chunk_counts(rng: np.random.Generator, items: int, chunks: int) -> np.ndarray:
    """1..MAX_CHUNKS chunks per item (skewed to few), summing to exactly ``chunks``."""
    extra = np.minimum(rng.poisson(chunks / items - 1, items), MAX_CHUNKS - 1)
    while (diff := chunks - items - int(extra.sum())) != 0:
        pick = rng.integers(0, items, abs(diff))
        if diff > 0:
            pick = pick[extra[pick] < MAX_CHUNKS - 1]
            np.add.at(extra, pick, 1)
        else:
            pick = pick[extra[pick] > 0]
            np.add.at(extra, pick, -1)
        extra = np.clip(extra, 0, MAX_CHUNKS - 1)
    return (1 + extra).astype(np.int64)


def synthetic_profile(
    items: int, chunks: int, *, dim: int = 384, topics: int = 200, seed: int = 0
) -> SyntheticProfile:
    """Clustered chunk vectors for ``items`` items with ``chunks`` chunks in all.

    Chunk ids follow the app's order (an item's passages, then its document chunk),
    and the vector matrix is in id order, as `VectorIndex` holds it.
    """
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(dim, dtype=np.float32))
    themes = _unit(rng.standard_normal((THEMES, dim), dtype=np.float32))
    theme_of = rng.integers(0, THEMES, topics)
    centres = _unit(0.35 * shared + 0.6 * themes[theme_of] + _noise(rng, topics, dim, 0.75))
    popularity = 1.0 / np.arange(1, topics + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())

    counts = _chunk_counts(rng, items, chunks)
    starts = np.zeros(items, np.int64)
    starts[1:] = np.cumsum(counts)[:-1]
    owner = np.repeat(np.arange(items), counts)
    multi = counts > 1
    doc_rows = (starts + counts - 1)[multi]  # the document chunk is created last
    topic = rng.choice(topics, items, p=popularity)
    item_centre = _unit(centres[topic] + _noise(rng, items, dim, 0.6))

    vectors = np.empty((chunks, dim), np.float32)
    for a in range(0, chunks, BLOCK_ROWS):
        b = min(chunks, a + BLOCK_ROWS)
        base = item_centre[owner[a:b]]
        drift = np.flatnonzero(rng.random(b - a) < 0.15)  # passages about another topic
        if len(drift):
            other = rng.choice(topics, len(drift), p=popularity)
            base[drift] = _unit(centres[other] + _noise(rng, len(drift), dim, 0.6))
        vectors[a:b] = _unit(base + _noise(rng, b - a, dim, 1.0))
    if len(doc_rows):
        passage_sums = np.add.reduceat(vectors, starts[multi], axis=0) - vectors[doc_rows]
        vectors[doc_rows] = _unit(passage_sums + _noise(rng, len(doc_rows), dim, 0.3))

    # The layout lists each item's document chunk (ordinal -1) before its passages.
    slot = np.arange(chunks) - starts[owner]
    order = np.lexsort(((slot + 1) % counts[owner], owner))
    ids = np.arange(chunks, dtype=np.int64)
    is_passage = np.ones(chunks, bool)
    is_passage[doc_rows] = False
    layout = ChunkLayout.from_rows(owner[order] + 1, ids[order], ids[order], is_passage[order])
    return SyntheticProfile(ids, vectors, layout, centres, popularity)


def synthetic_goals(
    profile: SyntheticProfile, goals: int, facets_per_goal: int, rng: np.random.Generator
) -> GoalSet:
    """Goals near topic centres (popular topics likelier), with facets and weights."""
    dim = profile.centres.shape[1]
    topics = rng.choice(len(profile.centres), goals, replace=False, p=profile.popularity)
    goal = _unit(profile.centres[topics] + _noise(rng, goals, dim, 0.5))
    queries = np.repeat(goal, facets_per_goal, axis=0)
    facet = np.arange(len(queries)) % facets_per_goal > 0  # the first facet is the goal itself
    if facet.any():
        queries[facet] = _unit(queries[facet] + _noise(rng, int(facet.sum()), dim, 0.6))
    weights = np.repeat(rng.uniform(0.5, 1.5, goals).astype(np.float32), facets_per_goal)
    owner = np.repeat(np.arange(goals, dtype=np.int64), facets_per_goal)
    return GoalSet(np.ascontiguousarray(queries), weights, owner)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ms_summary(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, math.ceil(0.9 * len(ms)) - 1)]
    return {
        "median_ms": round(statistics.median(ms), 2),
        "p90_ms": round(p90, 2),
        "min_ms": round(ms[0], 2),
        "runs": len(ms),
        "all_ms": [round(m, 2) for m in ms],
    }


def run_rank_bench(
    config: RankBenchConfig, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Measure, and return the results as a JSON-ready dict."""
    import faiss  # noqa: TID253 - thread counts and versions of the libraries measured
    import torch  # noqa: TID253

    from focusdesk.rank.attention import GoalAttentionScorer

    config.validate()
    say = progress or (lambda _: None)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
        faiss.omp_set_num_threads(config.threads)
    load_before = os.getloadavg()
    setup: dict[str, float] = {}

    say(f"generating {config.items:,} items / {config.chunks:,} chunks (d={config.dim})")
    t = time.perf_counter()
    profile = synthetic_profile(
        config.items, config.chunks, dim=config.dim, topics=config.topics, seed=config.seed
    )
    rng = np.random.default_rng(config.seed + 1)
    goal_sets = [
        synthetic_goals(profile, config.goals, config.facets_per_goal, rng)
        for _ in range(config.goal_sets)
    ]
    setup["generate_s"] = time.perf_counter() - t

    settings = Settings()
    scorer = GoalAttentionScorer(
        config.dim,
        heads=settings.heads,
        init_temperature=settings.temperature,
        goal_temperature=settings.goal_softmax_temperature,
    ).eval()
    layout = profile.layout
    candidate_config = CandidateConfig(exact_below=config.exact_below, hits=config.hits)
    with tempfile.TemporaryDirectory(prefix="focusdesk-bench-") as folder:
        say("loading the vector index and projecting keys")
        t = time.perf_counter()
        index = VectorIndex(Path(folder), "synthetic", config.dim)
        index.replace(profile.ids, profile.vectors)
        setup["vector_index_s"] = time.perf_counter() - t
        t = time.perf_counter()
        keys = project_all_keys(scorer, index.vectors)
        setup["keys_cache_s"] = time.perf_counter() - t

        candidates = CandidatePass(candidate_config)
        mode = "candidates" if candidates.needed(index) else "exact"
        approx_info: dict[str, Any] = {"used": mode == "candidates"}
        if mode == "candidates":
            say("building the candidate index")
            approx = candidates.prepare(index)
            reloaded = CandidatePass(candidate_config)
            t = time.perf_counter()
            reloaded.prepare(index)
            approx_info.update(
                kind="IVF-SQ8 (inner product)",
                nlist=approx.nlist,
                nprobe=approx.nprobe,
                build_s=round(candidates.build_seconds or 0.0, 3),
                load_s=round(time.perf_counter() - t, 3),
                file_mb=round(
                    sum(p.stat().st_size for p in Path(folder).glob("chunks-ivf-*")) / 2**20, 1
                ),
            )
            del reloaded
        rss_setup = _peak_rss_mb()

        def rank_once(gs: GoalSet) -> tuple[ItemScores, float, float, float, int]:
            t0 = time.perf_counter()
            sub = (
                layout.subset(
                    candidates.candidate_mask(scorer, layout, index, gs.queries, gs.weights)
                )
                if mode == "candidates"
                else layout
            )
            t1 = time.perf_counter()
            scores = score_items(
                scorer, sub, index.vectors, gs.queries, gs.weights, gs.owner, keys_cache=keys
            )
            t2 = time.perf_counter()
            np.argsort(-scores.relevance, kind="stable")
            t3 = time.perf_counter()
            return scores, t1 - t0, t2 - t1, t3 - t2, len(sub.rows)

        say(f"timing {config.runs} ranking runs ({mode})")
        rank_once(goal_sets[0])  # warm-up: first-touch allocations
        totals, selects, scorings, sorts, n_items, n_chunks = [], [], [], [], [], []
        candidate_scores: dict[int, ItemScores] = {}
        for run in range(config.runs):
            g = run % len(goal_sets)
            scores, s_select, s_score, s_sort, chunks_scored = rank_once(goal_sets[g])
            candidate_scores[g] = scores
            totals.append(s_select + s_score + s_sort)
            selects.append(s_select)
            scorings.append(s_score)
            sorts.append(s_sort)
            n_items.append(len(scores.item_ids))
            n_chunks.append(chunks_scored)
        rss_rank = _peak_rss_mb()

        say(f"scoring {len(goal_sets)} goal sets exhaustively")
        exhaustive, recall100, recall10 = [], [], []
        for g, gs in enumerate(goal_sets):
            t0 = time.perf_counter()
            full = score_items(
                scorer, layout, index.vectors, gs.queries, gs.weights, gs.owner, keys_cache=keys
            )
            np.argsort(-full.relevance, kind="stable")
            exhaustive.append(time.perf_counter() - t0)
            cand = candidate_scores.get(g)
            if cand is None:
                cand = rank_once(gs)[0]
            recall100.append(candidate_recall(full, cand, 100))
            recall10.append(candidate_recall(full, cand, 10))

    rank = _ms_summary(totals)
    result: dict[str, Any] = {
        "benchmark": "rank",
        "command": config.command(),
        "config": asdict(config),
        "machine": {
            "platform": platform.platform(),
            "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "faiss_threads": faiss.omp_get_max_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "faiss": getattr(faiss, "__version__", "?"),
            "numpy": np.__version__,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "data": {
            "items": len(layout.item_ids),
            "chunks": len(profile.ids),
            "dim": config.dim,
            "topics": config.topics,
            "goals": config.goals,
            "facet_queries": config.goals * config.facets_per_goal,
            "scorer": {
                "heads": settings.heads,
                "temperature": settings.temperature,
                "goal_temperature": settings.goal_softmax_temperature,
            },
        },
        "mode": mode,
        "setup_s": {k: round(v, 3) for k, v in setup.items()},
        "candidate_index": approx_info,
        "rank": {
            **rank,
            "select_median_ms": round(statistics.median(selects) * 1000, 2),
            "score_median_ms": round(statistics.median(scorings) * 1000, 2),
            "sort_median_ms": round(statistics.median(sorts) * 1000, 2),
            "items_scored_median": int(statistics.median(n_items)),
            "chunks_scored_median": int(statistics.median(n_chunks)),
        },
        "exhaustive": _ms_summary(exhaustive),
        "recall": {
            "at_100": {"mean": round(statistics.fmean(recall100), 4), "min": min(recall100)},
            "at_10": {"mean": round(statistics.fmean(recall10), 4), "min": min(recall10)},
            "goal_sets": len(goal_sets),
        },
        "peak_rss_mb": {
            "after_setup": round(rss_setup, 1),
            "after_ranking": round(rss_rank, 1),
            "after_exhaustive": round(_peak_rss_mb(), 1),
        },
        "target_ms": TARGET_MS,
        "target_met": rank["median_ms"] <= TARGET_MS,
    }
    return result


def format_report(result: dict[str, Any]) -> str:
    """The results as a short table for the terminal."""
    m, d, r, ex = result["machine"], result["data"], result["rank"], result["exhaustive"]
    idx, rec, rss = result["candidate_index"], result["recall"], result["peak_rss_mb"]
    rows: list[tuple[str, str]] = [
        ("data", f"{d['items']:,} items, {d['chunks']:,} chunks, d={d['dim']}"),
        ("goals", f"{d['goals']} goals, {d['facet_queries']} facet queries"),
        (
            "machine",
            f"{m['cpu']}, {m['cpus_usable']} CPUs, torch threads {m['torch_threads']}, "
            f"load {m['load_average_before'][0]:.2f} -> {m['load_average_after'][0]:.2f}",
        ),
        ("mode", result["mode"]),
    ]
    if idx.get("used"):
        rows.append(
            (
                "candidate index",
                f"{idx['kind']}, nlist {idx['nlist']}, nprobe {idx['nprobe']}: "
                f"built in {idx['build_s']:.2f} s, loaded in {idx['load_s']:.2f} s, "
                f"{idx['file_mb']} MB",
            )
        )
    setup = result["setup_s"]
    rows += [
        ("keys cache", f"{setup['keys_cache_s']:.2f} s"),
        (
            "full rank",
            f"median {r['median_ms']:.1f} ms, p90 {r['p90_ms']:.1f} ms over {r['runs']} runs "
            f"(target {result['target_ms']:.0f} ms: "
            f"{'met' if result['target_met'] else 'missed'})",
        ),
        (
            "  of which",
            f"select {r['select_median_ms']:.1f} ms, score {r['score_median_ms']:.1f} ms, "
            f"sort {r['sort_median_ms']:.1f} ms",
        ),
        ("  scored", f"{r['items_scored_median']:,} items, {r['chunks_scored_median']:,} chunks"),
        (
            "exhaustive",
            f"median {ex['median_ms']:.1f} ms, p90 {ex['p90_ms']:.1f} ms over {ex['runs']} runs",
        ),
        (
            "recall",
            f"@100 {rec['at_100']['mean']:.3f} (min {rec['at_100']['min']:.2f}), "
            f"@10 {rec['at_10']['mean']:.3f} (min {rec['at_10']['min']:.2f}) "
            f"over {rec['goal_sets']} goal sets",
        ),
        (
            "peak RSS",
            f"{rss['after_setup']:.0f} MB after setup, {rss['after_ranking']:.0f} MB after "
            f"ranking, {rss['after_exhaustive']:.0f} MB after exhaustive",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
