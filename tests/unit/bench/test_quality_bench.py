"""`bench quality` at a tiny size, with the fake encoder: every method, every vote count."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from fakes import FakeEncoder

from focusdesk.bench.quality import (
    ABSENT_GOAL,
    ABSENT_ID,
    GoalSpec,
    evaluate,
    format_joint,
    format_table,
    joint_figures,
    load_labelled_set,
    one_goal_rows,
    plot,
    run_quality,
)
from focusdesk.cli import main
from focusdesk.rank.metrics import alpha_ndcg_at_k

TOPICS = {
    "rec.gardening": "tomatoes compost soil seeds watering greenhouse",
    "sci.radio": "antenna receiver frequency tuner signal amplifier",
    "misc.cooking": "recipe oven flour butter sugar baking",
}


@pytest.fixture
def labelled(tmp_path: Path) -> tuple[Path, Path, Path]:
    lines, labels = [], ["message_id\tnewsgroup"]
    n = 0
    for group, words in TOPICS.items():
        for k in range(12):
            n += 1
            msg = EmailMessage()
            msg["From"] = f"user{n}@example.com"
            msg["Subject"] = f"{words.split()[k % 6]} question {k}"
            msg["Message-ID"] = f"<m{n}@example.com>"
            msg.set_content(f"{words} {words.split()[k % 6]} number {k}\n")
            lines.append(b"From user@example.com Sat Nov 21 22:51:44 2026\n" + msg.as_bytes())
            labels.append(f"<m{n}@example.com>\t{group}")
    mbox = tmp_path / "set.mbox"
    mbox.write_bytes(b"\n".join(lines) + b"\n")
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("\n".join(labels) + "\n")
    goals = tmp_path / "goals.json"
    goals.write_text(
        json.dumps(
            {
                "goals": [
                    {
                        "id": "garden",
                        "goal": "My garden: tomatoes, compost and seeds",
                        "labels": {"rec.gardening": 2},
                    },
                    {
                        "id": "radio",
                        "goal": "Radio: antenna, receiver and tuner",
                        "labels": {"sci.radio": 2},
                    },
                ]
            }
        )
    )
    return mbox, tsv, goals


def test_every_method_and_vote_count_is_reported(
    labelled: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    mbox, tsv, goals = labelled
    encoder = FakeEncoder(dim=512)  # few hash collisions: the words decide
    report = run_quality(
        mbox,
        tsv,
        goals,
        votes=[0, 10, 20],
        data_dir=tmp_path / "p",
        log=lambda *_: None,
        encoder=encoder,
    )
    assert set(report.per_goal) == {"garden", "radio"}
    assert report.meta["items"] > 0
    assert report.meta["items_per_second"] > 0
    assert report.meta["passages_per_second"] >= report.meta["items_per_second"]
    for method in (
        "bm25",
        "cosine_mean",
        "cosine_max_passage",
        "attention_untrained",
        "attention_10_votes",
        "attention_20_votes",
        "attention_10_votes_unseen",
        "attention_20_votes_unseen",
        "attention_untrained_10_votes_unseen",
        "attention_untrained_20_votes_unseen",
    ):
        assert set(report.mean[method]) == {"ndcg@10", "p@10", "ap@100"}
        assert all(0.0 <= v <= 1.0 for v in report.mean[method].values())
    # On this easy set the words say it all: the scorers find the topic.
    assert report.mean["attention_untrained"]["p@10"] >= 0.8
    assert report.mean["bm25"]["p@10"] >= 0.8
    assert "attention_untrained" in format_table(report)
    # At every vote count the untrained scorer is judged on the same unseen items.
    assert "  10 votes, ap@100 on items not voted on: untrained" in format_table(report)
    assert "  20 votes, ap@100 on items not voted on: untrained" in format_table(report)
    # Learning went through the app's trigger: one run per 10 votes (the quiet moment
    # after each batch finds nothing new).
    assert all(g["train_seconds"]["runs"] == 2 for g in report.per_goal.values())
    png = tmp_path / "q.png"
    plot(report, png)
    assert png.stat().st_size > 10_000


def test_evaluate_counts_any_positive_grade_as_relevant(labelled: tuple[Path, Path, Path]) -> None:
    _, tsv, goals = labelled
    category, specs = load_labelled_set(tsv, goals)
    garden = specs[0]
    perfect = sorted(category, key=lambda e: category[e] != "rec.gardening")
    m = evaluate(perfect, garden, category)
    assert m == {"ndcg@10": 1.0, "p@10": 1.0, "ap@100": 1.0}
    unseen = evaluate(perfect, garden, category, exclude=set(perfect[:12]))
    assert unseen["p@10"] == 0.0


def test_cli_prints_per_goal_and_mean_and_writes_json_and_png(
    labelled: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    encoder = FakeEncoder(dim=512)  # handed to the CLI, as a benchmark's own encoder would be
    mbox, tsv, goals = labelled
    out, png = tmp_path / "out" / "q.json", tmp_path / "out" / "q.png"
    argv = ["bench", "quality", "--mbox", str(mbox), "--labels", str(tsv), "--goals", str(goals)]
    argv += ["--votes", "10", "--profile-dir", str(tmp_path / "p")]
    assert main([*argv, "--json", str(out), "--png", str(png)], encoder=encoder) == 0
    printed = capsys.readouterr().out
    assert "goal garden" in printed
    assert "goal radio" in printed
    assert "mean over goals" in printed
    assert "attention_10_votes" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["votes"] == [0, 10]
    assert set(result["per_goal"]) == {"garden", "radio"}
    assert result["items"] == 36
    assert "machine" in result
    assert png.stat().st_size > 10_000
    # The profile is kept: a second run reuses its vectors and encodes nothing.
    assert main([*argv], encoder=FakeEncoder(dim=512)) == 0
    assert "0 passages encoded" in capsys.readouterr().err


def test_cli_explains_a_broken_goals_file(
    labelled: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mbox, tsv, _ = labelled
    bad = tmp_path / "bad.json"
    bad.write_text('{"goals": [{"id": "x"}]}')
    argv = ["bench", "quality", "--mbox", str(mbox), "--labels", str(tsv), "--goals", str(bad)]
    assert main(argv) == 1
    assert "each goal needs 'goal'" in capsys.readouterr().err
    assert main([*argv[:-1], str(tmp_path / "missing.json")]) == 1
    assert "is not a file" in capsys.readouterr().err


def test_joint_figures_hand_computed() -> None:
    category = {f"a{n}": "A" for n in range(4)} | {f"b{n}": "B" for n in range(4)}
    category |= {f"c{n}": "C" for n in range(4)}
    goals = [
        GoalSpec("ga", "goal a", {"A": 2, "C": 1}),
        GoalSpec("gb", "goal b", {"B": 2}),
    ]
    # Rows: a0 for ga, c0 for ga (grade 1), b0 for ga (not relevant to ga), one row for
    # the absent goal, then b1 for gb.
    shown = [("a0", "ga"), ("c0", "ga"), ("b0", "ga"), ("c1", ABSENT_ID), ("b1", "gb")]
    f = joint_figures(shown, goals, category)
    assert f["coverage@10"] == 2
    assert f["coverage@20"] == 2
    assert f["goals_with_primary"] == 2
    assert f["absent_rows@50"] == 1
    assert f["seats@50"] == {"ga": 3, "gb": 1, ABSENT_ID: 1}
    # Precision: a0 and c0 serve ga, b1 serves gb; divided by 50.
    assert f["precision@50"] == pytest.approx(3 / 50)
    # Proportionality over 50 seats: 1 - (|3/50 - 1/2| + |1/50 - 1/2|) / 2.
    assert f["proportionality@50"] == pytest.approx(1 - (0.44 + 0.48) / 2)
    # alpha-nDCG@20 against the greedy ideal over the judged items.
    relevant = [{"ga"}, {"ga"}, {"gb"}, {"ga"}, {"gb"}]
    judged = [{"ga"}] * 8 + [{"gb"}] * 4
    assert f["alpha_ndcg@20"] == pytest.approx(alpha_ndcg_at_k(relevant, judged, 0.5, 20))
    assert 0.0 < f["alpha_ndcg@20"] < 1.0
    # The same seats (ga, ga, ga, absent, gb), each filled with an item for its goal alone.
    alone = [{"ga"}, {"ga"}, {"ga"}, set(), {"gb"}]
    assert f["alpha_ndcg@20_one_goal_rows"] == pytest.approx(
        alpha_ndcg_at_k(alone, judged, 0.5, 20)
    )
    text = format_joint({**f, "absent_goal": ABSENT_GOAL})
    assert "coverage@20 2/2" in text
    assert f"(same seats): {f['alpha_ndcg@20_one_goal_rows']:.3f}" in text


def test_one_goal_rows_fill_seats_with_items_for_that_goal_alone() -> None:
    # Posts of group P serve both goals; each goal also has posts that serve it alone.
    judged = [{"m", "w"}] * 5 + [{"m"}] * 2 + [{"w"}] * 5 + [set()] * 3
    seats = ["m", "w", None, "m", "m", "w", "x"]
    rows = one_goal_rows(seats, judged, {"m", "w"}, 6)
    # m's two items of its own come first, then it takes one that also serves w.
    assert rows == [{"m"}, {"w"}, set(), {"m"}, {"m", "w"}, {"w"}]
    # A list of items each serving one goal scores below one whose first row serves both:
    # the ideal starts with such a row.
    alone = alpha_ndcg_at_k(one_goal_rows(["m", "w"] * 2, judged, {"m", "w"}, 4), judged)
    shared_first = alpha_ndcg_at_k([{"m", "w"}, {"w"}, {"m"}, {"w"}], judged)
    assert alone < shared_first <= 1.0


def test_joint_run_ranks_every_goal_at_once(
    labelled: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    mbox, tsv, goals = labelled
    report = run_quality(
        mbox,
        tsv,
        goals,
        votes=[0],
        data_dir=tmp_path / "p",
        log=lambda *_: None,
        encoder=FakeEncoder(dim=512),
        joint=True,
        absent_goal="Lattice chromodynamics: quarks and gluons",  # (the set has a baking topic)
    )
    joint = report.joint
    assert joint["absent_goal"] == "Lattice chromodynamics: quarks and gluons"
    assert joint["coverage@10"] == 2  # the old order gave the first goal all of the top 10
    assert joint["goals_with_primary"] == 2
    assert set(joint["seats@50"]) == {"garden", "radio", ABSENT_ID}
    assert 0.0 <= joint["proportionality@50"] <= 1.0
    assert "all goals at once" in format_table(report)
