"""Feed parse throughput: every corpus feed parsed from memory, N rounds, in entries/s.

Measures the whole path from bytes to items (safety check, feedparser, sanitising the
HTML with nh3, HTML to text), and feedparser alone for comparison. Also counts the
corpus: files ingested vs failed, entries.

    python scripts/bench_feeds.py [--corpus ../shared/data/corpora/feeds] [--rounds 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import time
from pathlib import Path

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.feeds import parse_feed
from focusdesk.sources.fetch import decompress_capped

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared/data/corpora/feeds"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    files = sorted(p for p in args.corpus.iterdir() if p.is_file() and p.name != "LICENSE")
    docs = {p.name: decompress_capped(p.read_bytes(), 20 * 1024 * 1024) for p in files}
    total_bytes = sum(len(d) for d in docs.values())

    ingested, failed, entries, entry_failures = [], [], 0, 0
    for name, data in docs.items():
        try:
            parsed = parse_feed(data, source=name)
        except SourceError as exc:
            failed.append((name, exc.message))
            continue
        ingested.append(name)
        entries += sum(1 for i in parsed.items if isinstance(i, RawItem))
        entry_failures += sum(1 for i in parsed.items if isinstance(i, IngestFailure))

    def run_full() -> int:
        n = 0
        for name, data in docs.items():
            with contextlib.suppress(SourceError):
                n += len(parse_feed(data, source=name).items)
        return n

    import feedparser

    def run_feedparser_only() -> int:
        return sum(
            len(
                feedparser.parse(
                    io.BytesIO(d), resolve_relative_uris=False, sanitize_html=False
                ).entries
            )
            for d in docs.values()
        )

    def timed(fn: object) -> list[float]:
        out = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            fn()  # type: ignore[operator]
            out.append(time.perf_counter() - started)
        return out

    run_full()  # warm up imports and caches
    full = timed(run_full)
    raw = timed(run_feedparser_only)
    per_file = {}
    for name, data in docs.items():
        started = time.perf_counter()
        with contextlib.suppress(SourceError):
            parse_feed(data, source=name)
        per_file[name] = time.perf_counter() - started

    figures = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "files": len(files),
        "files_ingested": len(ingested),
        "files_failed": len(failed),
        "failed": failed,
        "entries": entries,
        "entry_failures": entry_failures,
        "corpus_mb": round(total_bytes / 1e6, 2),
        "rounds": args.rounds,
        "full_entries_per_s": round(entries / statistics.median(full)),
        "full_mb_per_s": round(total_bytes / 1e6 / statistics.median(full), 2),
        "feedparser_only_entries_per_s": round(entries / statistics.median(raw)),
        "slowest_files_s": dict(
            sorted(((k, round(v, 3)) for k, v in per_file.items()), key=lambda kv: -kv[1])[:3]
        ),
    }
    print(
        f"feeds corpus: {len(files)} files, {len(ingested)} ingested, {len(failed)} failed "
        f"cleanly ({', '.join(n for n, _ in failed)}); {entries} entries, "
        f"{entry_failures} entry failures; {figures['corpus_mb']} MB decompressed"
    )
    print(
        f"full parse (safety check + feedparser + nh3 + text), median of {args.rounds}: "
        f"{figures['full_entries_per_s']} entries/s, {figures['full_mb_per_s']} MB/s"
    )
    print(f"feedparser alone: {figures['feedparser_only_entries_per_s']} entries/s")
    print(f"slowest files (s): {figures['slowest_files_s']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
