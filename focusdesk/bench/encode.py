"""`focusdesk bench encode`: encoder throughput, side by side with raw sentence-transformers.

In one run, on the same passages: raw sentence-transformers ``encode`` in fp32 (the
reference), each FocusDesk backend this machine can run, and FocusDesk's full sync path
(read, clean, chunk, encode, store, index) with the backend it chooses, preloaded as the
app's is. The passages are those the sync stored for the first ``messages`` of an mbox.
Each round syncs into a fresh profile, then times raw and every backend on the passages
that sync encoded, 256 texts at a time in turn, so that a load that changes within the
round weighs on all alike. Ratios are taken within a round and the median over rounds
is reported (a shared machine's load moves between rounds); texts/s is the best round.
Prints texts/s, tokens/s, the ratio to raw, and the min and mean cosine to raw fp32.
"""

from __future__ import annotations

import inspect
import mailbox
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.rank.backends import (
    BACKENDS,
    BF16,
    FP16,
    FP32,
    INT8,
    cosines,
    cpu_count,
    cpu_flags,
    native_bf16,
    onnx_available,
)
from focusdesk.rank.encoder import Encoder
from focusdesk.rank.passages import DOCUMENT_ORDINAL, passage_text, text_hash
from focusdesk.store.models import Chunk, Item

RAW = "raw sentence-transformers fp32"


def available_backends() -> list[str]:
    """The backends worth measuring here: fp32, bf16 (native or not), CUDA, ONNX if installed."""
    import importlib.util

    names = [FP32, BF16]
    if importlib.util.find_spec("torch") is not None and _cuda():
        names.append(FP16)
    if onnx_available():
        names.append(INT8)
    return names


def _cuda() -> bool:
    from focusdesk.rank.encoder import choose_device

    return choose_device("auto").device == "cuda"


def first_messages(mbox: Path, count: int, folder: Path) -> Path:
    """A copy of the first ``count`` messages of ``mbox`` in ``folder``."""
    target = folder / "bench.mbox"
    src = mailbox.mbox(str(mbox), create=False)
    out = mailbox.mbox(str(target))
    try:
        for n, key in enumerate(src.iterkeys()):
            if n >= count:
                break
            out.add(src.get_bytes(key))
        out.flush()
    finally:
        out.close()
        src.close()
    return target


def stored_passages(fd: FocusDesk) -> list[str]:
    """Every text the sync encoded: passages, and document chunks whose body adds text (the
    other document vectors are derived, never encoded)."""
    with fd.store.session() as s:
        rows = s.execute(
            select(Chunk.ordinal, Chunk.char_start, Chunk.char_end, Chunk.text_hash)
            .add_columns(Item.title, Item.text, Item.body)
            .join(Item, Item.id == Chunk.item_id)
            .order_by(Chunk.id)
        ).all()
    seen: dict[str, str] = {}
    for r in rows:
        model_input = passage_text(r.title, r.text, r.char_start, r.char_end, r.ordinal, r.body)
        if r.ordinal == DOCUMENT_ORDINAL and text_hash(model_input) != r.text_hash:
            continue  # derived from the passages
        seen.setdefault(r.text_hash, model_input)
    return list(seen.values())


SLICE = 256
"""Texts timed at a time: the sync's encode stage also takes them 256 at a time."""


def _interleaved(
    runs: dict[str, Callable[[list[str]], Any]],
    texts: list[str],
    vectors: dict[str, np.ndarray],
    *,
    turn: int = 0,
) -> dict[str, float]:
    """Seconds each of ``runs`` takes to encode ``texts``, timed slice by slice in turn
    (the order rotating), so that a load that changes within the round weighs on all
    alike; their vectors go to ``vectors``."""
    names = list(runs)
    seconds = dict.fromkeys(names, 0.0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for k, start in enumerate(range(0, len(texts), SLICE)):
        part = texts[start : start + SLICE]
        shift = (k + turn) % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            out = runs[name](part)
            seconds[name] += time.perf_counter() - t0
            parts[name].append(np.asarray(out, np.float32))
    for name in names:
        vectors[name] = np.concatenate(parts[name]) if parts[name] else np.zeros((0, 0))
    return seconds


def run_encode_bench(
    mbox: Path,
    *,
    messages: int = 300,
    backends: Sequence[str] | None = None,
    rounds: int = 2,
    batch_size: int = 64,
    raw_batch_size: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure; returns the results as a JSON-ready dict (see ``format_report``).

    FocusDesk's encoders take ``batch_size`` as the app does (at most that many texts a
    batch, and on a CPU at most ``TOKENS_PER_BATCH`` tokens). Raw sentence-transformers
    takes ``raw_batch_size``, by default the one its ``encode`` uses when none is given.
    """
    names = list(backends) if backends else available_backends()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="focusdesk-bench-encode-") as tmp:
        folder = Path(tmp)
        cache = folder / "encoder-cache"
        small = first_messages(mbox, messages, folder)
        chosen = Encoder(batch_size=batch_size, cache_dir=cache)  # auto, as the app
        chosen.load()
        if chosen_name(chosen) not in names:  # the sync's share needs its backend timed
            names.append(chosen_name(chosen))
        log(f"loading the model for {RAW} and {', '.join(names)}")
        reference = Encoder(batch_size=batch_size, backend=FP32)
        raw = reference.load()
        if raw_batch_size is None:
            raw_batch_size = int(inspect.signature(raw.encode).parameters["batch_size"].default)
        encoders = {
            name: Encoder(batch_size=batch_size, backend=name, cache_dir=cache, enforce=False)
            for name in names
        }
        for enc in encoders.values():
            enc.load()
        # Warm up every runner on a few texts (first-call allocations, ONNX session).
        warm = ["warm up the encoder on a short text"] * 4
        raw.encode(warm, batch_size=raw_batch_size)
        for enc in encoders.values():
            enc.encode(warm)
        times: dict[str, list[float]] = {RAW: [], **{n: [] for n in names}}
        vectors: dict[str, np.ndarray] = {}
        sync_times: list[float] = []
        texts: list[str] = []
        tokens = items = encoded = 0
        for n in range(rounds):
            # The sync path: a fresh profile each round, read, chunked, encoded and indexed.
            log(f"round {n + 1} of {rounds}: syncing the first {messages} messages of {mbox}")
            fd = FocusDesk(resolve_paths(folder / f"profile-{n}"), encoder=chosen)
            try:
                fd.sources.add("mbox", str(small), name="bench")
                t0 = time.perf_counter()
                summary = fd.sources.sync()
                sync_times.append(time.perf_counter() - t0)
                if not texts:
                    texts = stored_passages(fd)
                    tokens = sum(len(ids) for ids in reference.token_ids(texts))
                    items = fd.counts()["items"]
                    encoded = summary.chunks_encoded
            finally:
                fd.close()
            log(f"round {n + 1} of {rounds}: {len(texts)} passages, {tokens} tokens")
            round_times = _interleaved(
                {
                    RAW: lambda part: raw.encode(
                        part,
                        batch_size=raw_batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    ),
                    **{name: enc.encode for name, enc in encoders.items()},
                },
                texts,
                vectors,
                turn=n,
            )
            for name, seconds in round_times.items():
                times[name].append(seconds)
    rows: list[dict[str, Any]] = []
    for name in [RAW, *names]:
        best = min(times[name])
        cos = cosines(vectors[RAW], vectors[name])
        ratios = [raw_t / t for raw_t, t in zip(times[RAW], times[name], strict=True)]
        rows.append(
            {
                "backend": name,
                "texts_per_s": round(len(texts) / best, 1),
                "tokens_per_s": round(tokens / best),
                "ratio_to_raw": round(statistics.median(ratios), 2),
                "ratio_to_raw_per_round": [round(r, 2) for r in ratios],
                "min_cosine": round(float(cos.min()), 5),
                "mean_cosine": round(float(cos.mean()), 5),
                "seconds": [round(t, 2) for t in times[name]],
            }
        )
    backend = chosen_name(chosen)
    sync_seconds = min(sync_times)
    sync_rate = encoded / sync_seconds if sync_seconds > 0 else 0.0

    def per_round(name: str) -> list[float]:
        """The sync's texts/s over ``name``'s, each round (timed minutes apart, not more)."""
        if name not in times or not texts:
            return []
        pairs = zip(times[name], sync_times, strict=True)
        return [(encoded / sync_t) / (len(texts) / t) for t, sync_t in pairs if sync_t > 0]

    shares, to_raw = per_round(backend), per_round(RAW)
    sync = {
        "backend": backend,
        "backend_reason": chosen.backend.reason if chosen.backend else "",
        "items": items,
        "passages_encoded": encoded,
        "seconds": [round(t, 2) for t in sync_times],
        "items_per_s": round(items / sync_seconds, 1) if sync_seconds > 0 else None,
        "texts_per_s": round(sync_rate, 1),
        "tokens_per_s": round(tokens / sync_seconds) if sync_seconds > 0 else None,
        "ratio_to_raw": round(statistics.median(to_raw), 2) if to_raw else None,
        "share_of_backend": round(statistics.median(shares), 2) if shares else None,
        "share_of_backend_per_round": [round(x, 2) for x in shares],
    }
    return {
        "passages": len(texts),
        "tokens": tokens,
        "mean_tokens": round(tokens / max(1, len(texts)), 1),
        "rounds": rounds,
        "batch_size": batch_size,
        "tokens_per_batch": chosen.token_budget,
        "raw_batch_size": raw_batch_size,
        "backends": rows,
        "sync": sync,
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cores": cpu_count(),
            "native_bf16": native_bf16(cpu_flags()),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
        },
        "command": "focusdesk " + shlex.join(sys.argv[1:]),
        "known_backends": list(BACKENDS),
    }


def chosen_name(encoder: Encoder) -> str:
    return encoder.backend.name if encoder.backend else FP32


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def format_report(result: dict[str, Any]) -> str:
    """The results as a text table."""
    lines = [
        f"{result['passages']} passages, {result['tokens']} tokens "
        f"(mean {result['mean_tokens']}), best of {result['rounds']} rounds, "
        f"FocusDesk batches of at most {result['batch_size']} texts"
        + (f" and {result['tokens_per_batch']} tokens" if result["tokens_per_batch"] else "")
        + f", raw batches of {result['raw_batch_size']}",
        f"{'backend':<32} {'texts/s':>9} {'tokens/s':>9} {'× raw':>6} {'min cos':>8} "
        f"{'mean cos':>8}  × raw per round",
    ]
    for r in result["backends"]:
        lines.append(
            f"{r['backend']:<32} {r['texts_per_s']:>9.1f} {r['tokens_per_s']:>9} "
            f"{r['ratio_to_raw']:>6.2f} {r['min_cosine']:>8.4f} {r['mean_cosine']:>8.4f}  "
            + " ".join(f"{x:.2f}" for x in r["ratio_to_raw_per_round"])
        )
    s = result["sync"]
    lines.append(
        f"{'sync path (' + s['backend'] + ')':<32} {s['texts_per_s']:>9.1f} "
        f"{s['tokens_per_s'] or 0:>9} {s['ratio_to_raw'] or 0:>6.2f}"
        f"   {s['items_per_s']} items/s; {s['share_of_backend']} of its backend's "
        "throughput (per round: "
        + " ".join(f"{x:.2f}" for x in s["share_of_backend_per_round"])
        + ")"
    )
    lines.append(f"backend chosen: {s['backend']} ({s['backend_reason']})")
    m = result["machine"]
    lines.append(
        f"machine: {m['cpu']}, {m['cores']} cores, native bf16: {m['native_bf16'] or 'no'}, "
        f"load {m['load_average_before'][0]} → {m['load_average_after'][0]}"
    )
    return "\n".join(lines)
