"""`focusdesk bench TARGET`: measurements printed as a table and written as JSON.

One function registers each target and one runs it; each makes its own profile.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from focusdesk.errors import KnownError

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(sub: Subparsers) -> None:
    bench = sub.add_parser(
        "bench",
        help="measure ranking speed and quality",
        description="Benchmarks, each printed as a table; --json FILE also writes the "
        "results with the machine and the command.",
    )
    targets = bench.add_subparsers(dest="bench_target", metavar="TARGET", required=True)
    register_rank(targets)
    register_quality(targets)
    register_encode(targets)


def register_encode(targets: Subparsers) -> None:
    """`bench encode`: raw sentence-transformers, each backend and the sync path, one run."""
    p = targets.add_parser(
        "encode",
        help="encoder throughput: raw sentence-transformers fp32, each backend, the sync path",
        description="Sync the first messages of an mbox into a temporary profile, then time "
        "raw sentence-transformers fp32 and each FocusDesk encoder backend on the passages the "
        "sync stored, in interleaved rounds. Prints texts/s, tokens/s, the ratio to raw and "
        "the min and mean cosine to raw fp32, and the sync path's throughput.",
    )
    p.add_argument("--mbox", type=Path, required=True, metavar="FILE", help="the messages")
    p.add_argument(
        "--messages", type=int, default=300, metavar="N", help="first N messages (default 300)"
    )
    p.add_argument(
        "--backend",
        action="append",
        choices=["torch-fp32", "torch-bf16", "cuda-fp16", "onnx-int8"],
        help="measure this backend (repeatable; default: every one this machine can run; "
        "the one the sync chooses is always measured)",
    )
    p.add_argument("--rounds", type=int, default=2, metavar="N", help="timed rounds (default 2)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=64,
        metavar="N",
        help="most texts per batch for FocusDesk's encoders, as the app's setting (default 64)",
    )
    p.add_argument(
        "--raw-batch-size",
        type=int,
        metavar="N",
        help="texts per batch for raw sentence-transformers (default: its encode's own, 32)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    p.set_defaults(handler=run_encode, opens_profile=False)


def run_encode(args: argparse.Namespace) -> int:
    from focusdesk.bench.encode import format_report, run_encode_bench

    if not args.mbox.is_file():
        raise KnownError(f"bench encode: --mbox {args.mbox} is not a file.")
    if min(args.messages, args.rounds, args.batch_size, args.raw_batch_size or 1) < 1:
        raise KnownError(
            "bench encode: --messages, --rounds, --batch-size and --raw-batch-size must be "
            "1 or more."
        )
    result = run_encode_bench(
        args.mbox,
        messages=args.messages,
        backends=args.backend,
        rounds=args.rounds,
        batch_size=args.batch_size,
        raw_batch_size=args.raw_batch_size,
        log=lambda line: print(line, file=sys.stderr),
    )
    print(format_report(result))
    if args.json is not None:
        _write(args.json, json.dumps(result, indent=2) + "\n")
    return 0


def register_rank(targets: Subparsers) -> None:
    """`bench rank`: FocusDesk's own ranking calls timed on a generated profile of real size.

    Options left out are left to `RankBenchConfig`'s defaults (the help repeats them,
    and a test keeps the two in step); importing it here would slow every command.
    """
    p = targets.add_parser(
        "rank",
        argument_default=argparse.SUPPRESS,
        help="time the app's ranking calls on a generated profile of real size",
        description="Generate a profile as a sync would leave it (store, chunks, vectors, "
        "index, goals with facets; reused next time with --profile-dir), open it as the app "
        "does and time a full re-rank, the inbox's first page of 50 rows with their "
        "explanations, one item's Why panel and the peak memory; then `focusdesk rank --top "
        "20` and cold imports in fresh processes. Each figure is shown next to its target.",
    )
    p.add_argument("--items", type=int, metavar="N", help="items (default 100000)")
    p.add_argument("--chunks", type=int, metavar="N", help="chunks (default 250000)")
    p.add_argument("--goals", type=int, metavar="N", help="goals, each with facets (default 10)")
    p.add_argument("--seed", type=int, metavar="N", help="random seed (default 0)")
    p.add_argument("--runs", type=int, metavar="N", help="timed runs of each call (default 5)")
    p.add_argument(
        "--cli-runs",
        type=int,
        metavar="N",
        help="fresh processes timed for `rank --top 20` and each cold import; 0: none (default 3)",
    )
    p.add_argument(
        "--profile-dir",
        type=Path,
        metavar="DIR",
        help="keep the generated profile here and reuse it while the parameters are the "
        "same (default None: a temporary folder)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    p.set_defaults(handler=run_rank, opens_profile=False)


RANK_OPTIONS = ("items", "chunks", "goals", "seed", "runs", "cli_runs", "profile_dir")


def register_quality(targets: Subparsers) -> None:
    """`bench quality`: nDCG@10, P@10 and AP@100 against graded labels, before and after votes."""
    p = targets.add_parser(
        "quality",
        help="ranking quality against graded labels: baselines, untrained and after votes",
        description="Sync an mbox into a benchmark profile and rank it for each labelled goal "
        "with BM25, single-vector cosine, max-passage cosine, the untrained attention scorer "
        "and the scorer after simulated votes. Prints nDCG@10, P@10 and AP@100 per goal and "
        "on average.",
    )
    p.add_argument("--mbox", type=Path, required=True, metavar="FILE", help="the messages")
    p.add_argument(
        "--labels",
        type=Path,
        required=True,
        metavar="TSV",
        help="message id and category per line, after a header line",
    )
    p.add_argument(
        "--goals",
        type=Path,
        required=True,
        metavar="JSON",
        help='goals with graded labels per category: {"goals": [{"id", "goal", "labels"}]}',
    )
    p.add_argument(
        "--votes",
        type=_vote_counts,
        default=[0, 10, 20, 50],
        metavar="N,N,...",
        help="simulated vote counts to measure after (default 0,10,20,50)",
    )
    p.add_argument(
        "--profile-dir",
        type=Path,
        metavar="DIR",
        help="keep the benchmark profile here and reuse its vectors next time "
        "(default: a new temporary folder)",
    )
    p.add_argument(
        "--joint",
        action="store_true",
        help="also rank with every goal active at once and report coverage@10/@20, "
        "alpha-nDCG@20, proportionality@50, rows for a goal nothing serves and precision@50",
    )
    p.add_argument(
        "--absent-goal",
        metavar="TEXT",
        default=None,
        help="with --joint: the goal added that nothing in the set serves (default: a "
        "sourdough-baking goal; '' for none)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    p.add_argument("--png", type=Path, metavar="FILE", help="also plot quality against votes")
    p.set_defaults(handler=run_quality, opens_profile=False)


def _vote_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {value!r}") from None
    if not counts or any(n < 0 for n in counts):
        raise argparse.ArgumentTypeError(f"vote counts must be 0 or more: {value!r}")
    return counts


def run_quality(args: argparse.Namespace) -> int:
    from focusdesk.bench.quality import ABSENT_GOAL, LabelledSetError, format_table, plot
    from focusdesk.bench.quality import run_quality as run

    for flag, path in (("--mbox", args.mbox), ("--labels", args.labels), ("--goals", args.goals)):
        if not path.is_file():
            raise KnownError(f"bench quality: {flag} {path} is not a file.")
    try:
        report = run(
            args.mbox,
            args.labels,
            args.goals,
            votes=args.votes,
            data_dir=args.profile_dir,
            log=lambda line: print(line, file=sys.stderr),
            joint=args.joint,
            absent_goal=ABSENT_GOAL if args.absent_goal is None else args.absent_goal,
            encoder=getattr(args, "encoder", None),
        )
    except LabelledSetError as exc:
        raise KnownError(f"bench quality: {exc}") from None
    print(format_table(report))
    if args.json is not None:
        payload = {
            "votes": report.votes,
            "mean": report.mean,
            "per_goal": report.per_goal,
            **({"joint": report.joint} if report.joint else {}),
            **report.meta,
        }
        _write(args.json, json.dumps(payload, indent=2) + "\n")
    if args.png is not None:
        try:
            args.png.parent.mkdir(parents=True, exist_ok=True)
            plot(report, args.png)
        except OSError as exc:
            raise KnownError(f"Could not write {args.png}: {exc.strerror or exc}") from None
        print(f"plot written to {args.png}")
    return 0


def _write(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise KnownError(f"Could not write {path}: {exc.strerror or exc}") from None
    print(f"results written to {path}")


def run_rank(args: argparse.Namespace) -> int:
    from focusdesk.bench.rank import RankBenchConfig, format_report, run_rank_bench

    config = RankBenchConfig(
        **{name: getattr(args, name) for name in RANK_OPTIONS if hasattr(args, name)}
    )
    try:
        config.validate()
    except ValueError as exc:
        raise KnownError(f"bench rank: {exc}") from None
    result = run_rank_bench(config, progress=lambda line: print(line, file=sys.stderr))
    print(format_report(result))
    json_path: Path | None = getattr(args, "json", None)
    if json_path is not None:
        _write(json_path, json.dumps(result, indent=2) + "\n")
    return 0
