"""Per-series fits spread over a process pool (the families that fit one model per series)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
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
    """
    if n_jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS:
        if initializer is not None:
            initializer()
        return [fit_many(list(items), settings)]
    k = n_jobs * CHUNKS_PER_JOB
    chunks = [list(items[i::k]) for i in range(k) if items[i::k]]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(n_jobs, mp_context=context, initializer=initializer) as pool:
        return list(pool.map(fit_many, chunks, repeat(settings)))
