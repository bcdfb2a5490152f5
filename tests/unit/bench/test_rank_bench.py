"""`focusdesk bench rank` at a tiny size: it times the app's calls and reports its targets."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from fakes import FakeEncoder

from focusdesk.app import FocusDesk
from focusdesk.bench.rank import (
    PAGE,
    TARGETS,
    RankBenchConfig,
    cli_command,
    edited_text,
    format_report,
    ms_summary,
    run_rank_bench,
    time_processes,
)
from focusdesk.cli import build_parser, main


def test_bench_times_the_apps_calls_on_a_generated_profile(tmp_path: Path) -> None:
    config = RankBenchConfig(
        items=80, chunks=200, goals=3, runs=2, cli_runs=0, profile_dir=tmp_path / "p"
    )
    result = run_rank_bench(config, encoder=FakeEncoder())
    assert result["profile"]["reused"] is False
    assert result["data"]["items"] == 80
    assert result["data"]["chunks"] == 200
    assert result["data"]["goals"] == 3
    assert result["rows_ranked"] > PAGE
    for key in (
        "full_rerank",
        "full_rerank_rescored",
        "full_rerank_reprojected",
        "first_page",
        "rank_described",
        "rank_top50",
    ):
        assert result[key]["runs"] == 2
        assert 0 < result[key]["p50_ms"] <= result[key]["p90_ms"]
    for key in ("goal_edit_rerank", "goal_edit_rank_inbox", "weight_edit_rerank"):
        assert result[key]["runs"] == 4  # two edits per run
        assert 0 < result[key]["p50_ms"] <= result[key]["p90_ms"]
    assert result["goal_edit_rerank"]["edit"]["runs"] == 4
    assert result["goal_edit_first_s"] > 0
    before, after = result["goal_edit_texts"]
    assert before != after
    desk = FocusDesk.open(config.profile_dir, FakeEncoder())  # type: ignore[arg-type]
    try:  # the goal is put back
        assert before in {g.description for g in desk.goals.all()}
        assert after not in {g.description for g in desk.goals.all()}
    finally:
        desk.close()
    assert result["first_page"]["rows"] == PAGE
    assert result["why_panel"]["runs"] == PAGE  # one per item of the first page
    assert result["recall"] is None  # 200 chunks: every item is scored exactly anyway
    assert result["peak_rss_mb"]["after_timings"] >= result["peak_rss_mb"]["before_open"] > 0
    assert "processes" not in result
    assert set(result["met"]) == set(TARGETS) - {"rank_top20_cli_p50_s"}
    assert result["targets"] == TARGETS
    row = result["example_row"]
    assert row["goal"]
    assert row["evidence"]
    machine = result["machine"]
    for key in ("cpu", "cpus_usable", "load_average_before", "load_average_after"):
        assert key in machine
    report = format_report(result)
    for words in ("full re-rank", "goal edit", "first page", "Why panel", "target <= 150 ms"):
        assert words in report

    again = run_rank_bench(config, encoder=FakeEncoder())
    assert again["profile"]["reused"] is True


def test_a_goal_edit_drops_its_last_listed_thing() -> None:
    assert edited_text("Build projects: disk, sofa and radar") == "Build projects: disk and sofa"
    assert (
        edited_text("Golf projects: towel and drone")
        == "Golf projects: towel and drone and reviews"
    )
    assert edited_text("") == " and reviews"


def test_cli_refuses_an_impossible_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "rank", "--items", "10", "--chunks", "5"]) == 1
    assert "--chunks" in capsys.readouterr().err
    assert main(["bench", "rank", "--runs", "0"]) == 1
    assert "--runs" in capsys.readouterr().err


def test_cli_refuses_a_folder_that_is_not_a_generated_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.md").write_text("mine", encoding="utf-8")
    argv = ["bench", "rank", "--items", "10", "--chunks", "20", "--profile-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "not a generated benchmark profile" in capsys.readouterr().err
    assert (tmp_path / "notes.md").read_text(encoding="utf-8") == "mine"


def test_fresh_processes_are_timed_and_a_failure_is_reported() -> None:
    timed = time_processes([sys.executable, "-c", "pass"], 2, {})
    assert timed["runs"] == 2
    assert 0 < timed["min_s"] <= timed["p50_s"] <= timed["max_s"]
    with pytest.raises(RuntimeError, match="boom"):
        time_processes([sys.executable, "-c", "raise SystemExit('boom')"], 1, {})


def test_the_cli_run_is_the_users_command(tmp_path: Path) -> None:
    argv = cli_command(tmp_path)
    assert argv[1:] == ["-m", "focusdesk", "--data-dir", str(tmp_path), "rank", "--top", "20"]


def test_summary_is_p50_and_p90() -> None:
    s = ms_summary([0.001 * n for n in range(1, 11)])
    assert s["p50_ms"] == 5.5
    assert s["p90_ms"] == 9.0
    assert s["min_ms"] == 1.0
    assert s["runs"] == 10


def test_json_result_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import focusdesk.bench.rank as bench

    def fake_run(config: RankBenchConfig, progress: object = None) -> dict[str, object]:
        return run_rank_bench(config, encoder=FakeEncoder())

    monkeypatch.setattr(bench, "run_rank_bench", fake_run)
    out = tmp_path / "out" / "rank.json"
    argv = ["bench", "rank", "--items", "60", "--chunks", "120", "--goals", "2", "--runs", "1"]
    assert main([*argv, "--cli-runs", "0", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "full re-rank" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["command"].startswith("focusdesk bench rank --items=60 --chunks=120")
    assert result["data"]["items"] == 60


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
        assert f"(default {getattr(defaults, name)}" in (action.help or ""), name
        checked.add(name)
    assert checked == {f.name for f in fields(RankBenchConfig)}
