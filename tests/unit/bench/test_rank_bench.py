"""`focusdesk bench rank` at a tiny size: it runs, reports and writes its JSON."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from focusdesk.bench.rank import (
    MAX_CHUNKS,
    RankBenchConfig,
    format_report,
    run_rank_bench,
    synthetic_profile,
)
from focusdesk.cli import build_parser, main


def test_synthetic_profile_looks_like_a_profile() -> None:
    p = synthetic_profile(500, 1250, dim=32, topics=20, seed=1)
    layout = p.layout
    assert len(layout.item_ids) == 500
    assert len(p.ids) == layout.counts.sum() == 1250
    assert layout.counts.min() >= 1
    assert layout.counts.max() <= MAX_CHUNKS
    np.testing.assert_allclose(np.linalg.norm(p.vectors, axis=1), 1.0, atol=1e-5)
    first = layout.starts
    multi = layout.counts > 1
    # Items of several chunks have one document chunk, listed first; others none.
    assert not layout.is_passage[first[multi]].any()
    assert layout.is_passage[first[~multi]].all()
    assert (~layout.is_passage).sum() == multi.sum()
    assert sorted(layout.rows.tolist()) == list(range(1250))
    # A document chunk is close to its item's passages.
    doc, passage = layout.rows[first[multi][0]], layout.rows[first[multi][0] + 1]
    assert float(p.vectors[doc] @ p.vectors[passage]) > 0.3


def test_bench_runs_through_the_candidate_pass_and_reports() -> None:
    config = RankBenchConfig(
        items=1500, chunks=3750, goals=3, runs=3, goal_sets=2, exact_below=0, dim=64, topics=40
    )
    result = run_rank_bench(config)
    assert result["mode"] == "candidates"
    assert result["candidate_index"]["used"]
    assert result["candidate_index"]["build_s"] > 0
    assert result["rank"]["runs"] == 3
    assert 0 < result["rank"]["median_ms"] <= result["rank"]["p90_ms"]
    assert result["rank"]["items_scored_median"] < 1500
    assert result["exhaustive"]["runs"] == 2
    assert result["recall"]["at_100"]["mean"] >= 0.99
    assert result["recall"]["at_10"]["min"] == 1.0
    assert result["data"]["chunks"] == 3750
    assert "full rank" in format_report(result)


def test_cli_writes_the_json_with_machine_and_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench" / "rank.json"
    argv = ["bench", "rank", "--items", "400", "--chunks", "1000", "--goals", "2"]
    assert main([*argv, "--runs", "2", "--goal-sets", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exhaustive" in printed
    assert "recall" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["mode"] == "exact"  # 1000 chunks: below the threshold
    assert result["recall"]["at_100"]["mean"] == 1.0
    assert result["command"].startswith("focusdesk bench rank --items=400 --chunks=1000")
    machine = result["machine"]
    for key in ("platform", "cpu_count", "torch_threads", "load_average_before"):
        assert key in machine
    for key in ("median_ms", "p90_ms", "all_ms"):
        assert key in result["rank"]
        assert key in result["exhaustive"]
    assert set(result["peak_rss_mb"]) == {"after_setup", "after_ranking", "after_exhaustive"}
    assert isinstance(result["target_met"], bool)


def test_cli_refuses_an_impossible_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "rank", "--items", "10", "--chunks", "5"]) == 1
    assert "--chunks" in capsys.readouterr().err


def test_cli_help_states_the_real_defaults() -> None:
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb")
    bench = verbs.choices["bench"]  # type: ignore[index]
    targets = next(a for a in bench._actions if a.dest == "bench_target")
    rank = targets.choices["rank"]  # type: ignore[index]
    defaults = RankBenchConfig()
    checked = set()
    for action in rank._actions:
        name = action.dest
        if name not in {f.name for f in fields(RankBenchConfig)}:
            continue
        value = getattr(defaults, name)
        expected = "(default: theirs)" if value is None else f"(default {value})"
        assert expected in (action.help or ""), name
        checked.add(name)
    assert checked == {f.name for f in fields(RankBenchConfig)} - {"dim", "topics"}
