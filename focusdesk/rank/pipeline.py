"""The pipelined encode stage of a sync: reading, chunking and storing overlap encoding.

Three threads: the reader (the sources, given as one callable) writes items into the
store; this thread chunks what has been committed, gathers the next batch of passages
and stores the vectors of the last one; one worker runs the encoder (torch and ONNX
Runtime release the GIL while they compute). Batches are committed as they finish, so
cancelling keeps everything stored. The encoder is passed in: nothing here imports torch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from focusdesk.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    Throughput,
    fmt_duration,
    no_progress,
)
from focusdesk.rank.passages import (
    ENCODE_COMMIT,
    Chunker,
    chunk_pending,
    derive_documents,
    pending_chunks,
    store_vectors,
)
from focusdesk.store.db import Store

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""How long to wait for the reader at a time when there is nothing to encode yet (a
cancel is looked at in between; the store is not)."""


@dataclass
class EncodeResult:
    """What the encode stage did."""

    items_chunked: int = 0
    chunks_encoded: int = 0
    chunks_cached: int = 0


def encode_while_reading(
    store: Store,
    encoder: Encoder,
    chunker: Callable[[], Chunker],
    read: Callable[[Callable[[], None]], None] | None = None,
    *,
    batch: int = ENCODE_COMMIT,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> EncodeResult:
    """Run ``read`` in a thread and chunk and encode what it stores while it runs.

    ``read`` is given a function to call whenever it has committed items: the store is
    looked at again only then (and once it ends), not polled. ``chunker`` is called once
    the encoder is loaded (its tokenizer counts the tokens). An error of ``read`` (a
    cancel included) is raised here after the batches already encoded are stored.
    """
    failure: list[BaseException] = []
    stored = threading.Event()

    def reader() -> None:
        try:
            if read is not None:
                read(stored.set)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        finally:
            stored.set()

    thread = threading.Thread(target=reader, name="focusdesk-sync-reader", daemon=True)
    thread.start()
    result = EncodeResult()
    pool = ThreadPoolExecutor(1, thread_name_prefix="focusdesk-encoder")
    try:
        model_id = encoder.model_id  # loads the model while the reader reads
        cut = chunker()
        _loop(
            store,
            encoder,
            model_id,
            cut,
            (thread, stored),
            result,
            batch,
            progress,
            cancel,
            clock,
            pool,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        thread.join()
    if failure:
        raise failure[0]
    return result


def _loop(
    store: Store,
    encoder: Encoder,
    model_id: str,
    chunker: Chunker,
    reading_state: tuple[threading.Thread, threading.Event],
    result: EncodeResult,
    batch: int,
    progress: ProgressCallback,
    cancel: CancelToken | None,
    clock: Callable[[], float],
    pool: ThreadPoolExecutor,
) -> None:
    submitted: set[str] = set()
    queue: list[tuple[str, str]] = []
    documents: dict[str, str] = {}
    flight: tuple[list[str], Future[np.ndarray]] | None = None
    rate = Throughput(clock)
    reader, stored = reading_state
    first = True
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        reading = reader.is_alive()
        # Prepare the next batch while the one in flight encodes: chunk what the reader
        # committed since the last look (it says when; it also says when it ends).
        chunked: list[int] = []
        if first or stored.is_set():
            stored.clear()
            chunked = chunk_pending(store, chunker, cancel=cancel)
            result.items_chunked += len(chunked)
        if first or chunked:  # new passages come only from newly chunked items
            # First every live item (a cancelled sync may have left passages without
            # vectors), then only those just chunked.
            pending = pending_chunks(store, model_id, None if first else chunked)
            result.chunks_cached += pending.cached
            first = False
            for h, text in pending.texts.items():
                if h not in submitted:
                    submitted.add(h)
                    queue.append((h, text))
            documents.update(pending.documents)
        done_vectors: tuple[list[str], np.ndarray] | None = None
        if flight is not None:
            hashes, future = flight
            done_vectors = (hashes, future.result())
            flight = None
        if queue:
            part, queue = queue[:batch], queue[batch:]
            texts = [text for _, text in part]
            flight = ([h for h, _ in part], pool.submit(encoder.encode, texts, cancel=cancel))
        if done_vectors is not None:
            # Stored while the next batch encodes.
            store_vectors(store, model_id, done_vectors[0], done_vectors[1])
            derive_documents(store, model_id, documents)
            result.chunks_encoded += len(done_vectors[0])
            progress(
                _progress(result, len(queue) + (len(flight[0]) if flight else 0), reading, rate)
            )
        if flight is None and not queue:
            if reading or stored.is_set():
                stored.wait(POLL_SECONDS)  # a cancel is looked at every POLL_SECONDS
                continue
            break  # the reader had ended before this round chunked: nothing is left
    derive_documents(store, model_id, documents)


def _progress(result: EncodeResult, left: int, reading: bool, pace: Throughput) -> Progress:
    """Passages done of those known; items per second (items chunked, in the share of their
    passages encoded) and, once every source is read, the time left."""
    done = result.chunks_encoded
    items = result.items_chunked * done / max(1, done + left)
    rate = pace.per_second(items)
    eta = None if reading else pace.eta(done, left)
    message = f"Encoded {done} of {done + left}{'+' if reading else ''} passages"
    if rate is not None:
        message += f" · {rate:.1f} items/s"
    if eta is not None:
        message += f" · {fmt_duration(eta)} left"
    return Progress("encode", done, None if reading else done + left, message, rate, eta)
