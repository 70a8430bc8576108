"""Per-series fits spread over a process pool (the families that fit one model per series), and a whole
family fitted in a process beside the caller (pipeline.run_forecast)."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")
Settings = TypeVar("Settings")
Result = TypeVar("Result")

MIN_PARALLEL_ITEMS = 8  # below this a process pool costs more than it saves
CHUNKS_PER_JOB = 4  # several chunks per process, so one slow chunk does not leave a core idle
# Imported once by the pools' forkserver (one per process, started by its first pool), so that a worker
# of each pool starts by forking from it instead of importing statsforecast & co. (about 2 s) itself.
POOL_PRELOAD = ["nova_assets.lib.forecasting.models"]
# A worker runs the command's main module again as __mp_main__; run with `python -m`, that module is
# already in the forkserver's sys.modules (_pool_preload), which runpy reports as a RuntimeWarning
# on the stderr of the command, once per worker. Expected here, so not shown (set in the forkserver
# too, which imports this module with POOL_PRELOAD, before the main module).
warnings.filterwarnings(
    "ignore", r"'[\w.]+' found in sys\.modules after import of package", RuntimeWarning, module="runpy"
)


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
    SystemExit (the `nova` commands turn SIGTERM into one), so no fit outlives the command. A worker
    that dies (killed, out of memory) fails the call instead of leaving it waiting for ever, which a
    multiprocessing.Pool does.
    """
    if n_jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS:
        if initializer is not None:
            initializer()
        return [fit_many(list(items), settings)]
    k = n_jobs * CHUNKS_PER_JOB
    chunks = [list(items[i::k]) for i in range(k) if items[i::k]]
    with _workers(n_jobs, initializer) as pool:
        futures = [pool.submit(fit_many, chunk, settings) for chunk in chunks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if (error := future.exception()) is not None:
                raise error  # a failed chunk, or BrokenProcessPool when a worker died (killed, out of memory)
        return [future.result() for future in futures]


@contextmanager
def beside(fn: Callable[..., Result], *args: object) -> Iterator[Future[Result]]:
    """`fn(*args)` in a process of its own while the caller goes on; the process is ended on every way
    out of the `with` block, a result in hand or not, so no fit outlives the command.

    The process is started from a thread: the first process of a command waits for the forkserver to
    import POOL_PRELOAD (seconds), and the caller spends them on its own work instead of waiting."""
    result: Future[Result] = Future()
    with _workers(1) as pool:
        starter = threading.Thread(target=_submit_into, args=(pool, result, fn, args), name="beside-start")
        starter.start()
        try:
            yield result
        finally:
            starter.join()  # the process is known (and can be ended) before the pool ends


def _submit_into(pool: ProcessPoolExecutor, result: Future[Result], fn: Callable[..., Result], args: tuple) -> None:
    """`fn(*args)` submitted to `pool`, its outcome (or the submission's failure) passed on to `result`."""
    try:
        submitted = pool.submit(fn, *args)
    except BaseException as error:  # the process could not be started (the forkserver failed)
        if result.set_running_or_notify_cancel():  # unless the caller has cancelled it meanwhile
            result.set_exception(error)
        return

    def pass_on(done: Future[Result]) -> None:
        if done.cancelled():
            result.cancel()
            return
        # Atomically: False if the caller has cancelled `result`, else it can no longer be cancelled,
        # so a cancel between a check and the set below cannot make the set raise.
        if not result.set_running_or_notify_cancel():
            return
        if (error := done.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(done.result())

    submitted.add_done_callback(pass_on)


@contextmanager
def _workers(n_jobs: int, initializer: Callable[[], None] | None = None) -> Iterator[ProcessPoolExecutor]:
    """A pool of `n_jobs` processes forked from this process's forkserver, ended when the block ends,
    and killed mid-fit when it ends with an exception (a failed fit, Ctrl-C, SystemExit)."""
    before = set(multiprocessing.active_children())
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_pool_preload())  # no effect once this process's forkserver runs
    pool = ProcessPoolExecutor(n_jobs, mp_context=context, initializer=initializer)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in set(multiprocessing.active_children()) - before:
            # SIGKILL, since a worker forked by a forkserver started where SIGTERM was blocked or
            # ignored (both inherited) would outlive a terminate()
            worker.kill()
        raise
    pool.shutdown()


def _pool_preload() -> list[str]:
    """POOL_PRELOAD and this process's main module: "__main__" (multiprocessing's default, a script
    run by path) and the module run with `python -m` (`nova_assets.cli`). Each worker runs the main
    module again as __mp_main__, which costs little once its imports are in the forkserver."""
    main = getattr(sys.modules["__main__"], "__spec__", None)
    return [*POOL_PRELOAD, "__main__", *([main.name] if main is not None and main.name else [])]
