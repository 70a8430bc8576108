"""Per-series fits spread over a process pool (the families that fit one model per series)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Settings = TypeVar("Settings")
Result = TypeVar("Result")

MIN_PARALLEL_ITEMS = 8  # below this a process pool costs more than it saves
CHUNKS_PER_JOB = 4  # several chunks per process, so one slow chunk does not leave a core idle


def map_chunks(
    fit_many: Callable[[list[Item], Settings], Result],
    items: Sequence[Item],
    settings: Settings,
    n_jobs: int,
    initializer: Callable[[], None] | None = None,
) -> list[Result]:
    """`fit_many(chunk, settings)` over interleaved chunks of `items`, in `n_jobs` processes.

    Interleaved (items[i::k]) so that chunks mix long and short series alike. One process: a plain
    call in this one. forkserver: workers never inherit the parent's OpenMP/torch thread state.
    The workers are ended on every way out of this call: results in hand, a failed chunk, Ctrl-C, or
    SystemExit (the `nova` commands turn SIGTERM into one), so no fit outlives the command.
    """
    if n_jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS:
        if initializer is not None:
            initializer()
        return [fit_many(list(items), settings)]
    k = n_jobs * CHUNKS_PER_JOB
    chunks = [list(items[i::k]) for i in range(k) if items[i::k]]
    context = multiprocessing.get_context("forkserver")
    pool = context.Pool(n_jobs, initializer=initializer)
    try:
        tasks = [(fit_many, i, chunk, settings) for i, chunk in enumerate(chunks)]
        results = dict(pool.imap_unordered(_numbered, tasks))  # a failed chunk raises as soon as it fails
        pool.close()  # no more work: let the workers finish their exit
        pool.join()
        return [results[i] for i in range(len(chunks))]
    finally:
        pool.terminate()  # a no-op after close/join; otherwise stops the workers mid-fit


def _numbered(task: tuple[Callable, int, list, object]) -> tuple[int, object]:
    fit_many, number, chunk, settings = task
    return number, fit_many(chunk, settings)
