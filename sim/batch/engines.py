"""Where replications run: the per-replication task and the serial, process-pool and Dask engines.

A task is one replication, :func:`run_rep`: ``simulate(scenario, seed=seed, rep=rep)`` plus, for a
results folder, its tables as Parquet bytes, sent back as a :class:`RepOutput`. An engine runs the
tasks of a batch and yields their outputs as they complete: :class:`Engine` in this process
(``workers=1``), a local ``ProcessPoolExecutor`` (forked when this process runs no other thread, else
forkserver), or a Dask ``LocalCluster`` / existing cluster. Pool and Dask engines keep at most
``2 x workers`` tasks in flight. :func:`make_engine` picks one; :mod:`sim.batch` describes the choice.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.analysis.result import Result
from sim.batch.simulate import simulate
from sim.errors import BatchError
from sim.io import results_folder as store
from sim.spec.scenario import Scenario


@dataclass(frozen=True)
class RepOutput:
    """What a worker sends back for one replication: KPIs and, for a results folder, Parquet bytes."""

    rep: int
    kpis: dict[str, Any]
    parts: dict[str, bytes] | None
    task_s: float
    extra: Any = None  # what the batch's reducer made of the replication's Result, if any


# --- the work of one replication ------------------------------------------------------------------


Reducer = Callable[[Result], Any]  # a module-level function (it is pickled to the workers)


Params = Mapping[str, float] | None  # parameter values set for one replication (not drawn)


def _run_rep_local(
    sc: Scenario,
    seed: int,
    rep: int,
    days: int,
    tables: bool,
    reduce: Reducer | None = None,
    params: Params = None,
) -> tuple[RepOutput, Result]:
    t0 = time.perf_counter()
    res = simulate(sc, seed=seed, rep=rep, days=days, params=params)
    parts = None
    if tables:
        parts = {
            name: store.parquet_bytes(getattr(res, name).assign(rep=rep))
            for name in store.PART_TABLES
        }
    extra = reduce(res) if reduce is not None else None
    return RepOutput(rep, res.kpis, parts, time.perf_counter() - t0, extra), res


def run_rep(
    sc: Scenario,
    seed: int,
    rep: int,
    days: int,
    tables: bool,
    reduce: Reducer | None = None,
    params: Params = None,
) -> RepOutput:
    """Run replication ``rep`` (in a worker) and return its KPIs, if asked its tables, and what
    ``reduce`` makes of its Result (e.g. :func:`sim.analysis.burden.cost_account`). ``params``:
    set these parameter values instead of drawing the uncertain ones (a sensitivity sample)."""
    return _run_rep_local(sc, seed, rep, days, tables, reduce, params)[0]


def _noop() -> int:
    return os.getpid()


# --- execution backends ---------------------------------------------------------------------------

# scenario, seed, days, tables, reducer, parameter values per replication (None: draw them)
Task = tuple[Scenario, int, int, bool, Reducer | None, Mapping[int, Mapping[str, float]] | None]


class Engine:
    """The serial engine (in this process); base of the pool and Dask engines."""

    mode = "serial"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.limit = 1
        self.peak = 0

    def run(
        self, task: Task, reps: Sequence[int], on_result: Callable[[Result], None] | None
    ) -> Iterator[RepOutput]:
        sc, seed, days, tables, reduce, params = task
        for rep in reps:
            self.peak = max(self.peak, 1)
            pv = params.get(rep) if params is not None else None
            out, res = _run_rep_local(sc, seed, rep, days, tables, reduce, pv)
            if on_result is not None:
                on_result(res)
            del res
            yield out

    def close(self) -> None:
        return None


def pool_context() -> str:
    """Start method for the local pool: fork when safe (no other thread is running), else forkserver."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


class _FuturesEngine(Engine):
    """Submit one task per replication, keep at most ``limit`` in flight, yield as they complete."""

    def _submit(self, task: Task, rep: int) -> Any:
        raise NotImplementedError

    def _wait(self, pending: set[Any]) -> set[Any]:
        raise NotImplementedError

    def _result(self, fut: Any) -> RepOutput:
        out: RepOutput = fut.result()
        return out

    def _cancel(self, pending: set[Any]) -> None:
        for f in pending:
            f.cancel()

    def run(
        self, task: Task, reps: Sequence[int], on_result: Callable[[Result], None] | None
    ) -> Iterator[RepOutput]:
        todo = iter(reps)
        pending: set[Any] = set()

        def fill() -> None:
            while len(pending) < self.limit:
                rep = next(todo, None)
                if rep is None:
                    return
                pending.add(self._submit(task, rep))
                self.peak = max(self.peak, len(pending))

        fill()
        try:
            while pending:
                for fut in self._wait(pending):
                    out = self._result(fut)
                    pending.discard(fut)
                    yield out
                    fill()
        finally:
            self._cancel(pending)


class _PoolEngine(_FuturesEngine):
    mode = "pool"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.limit = 2 * workers
        self.context = pool_context()
        self.executor = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(self.context)
        )
        # start the workers now, before this process starts any thread (progress bar, pool manager)
        self.executor.submit(_noop).result()

    def _submit(self, task: Task, rep: int) -> Any:
        sc, seed, days, tables, reduce, params = task
        pv = params.get(rep) if params is not None else None
        return self.executor.submit(run_rep, sc, seed, rep, days, tables, reduce, pv)

    def _wait(self, pending: set[Any]) -> set[Any]:
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class _DaskEngine(_FuturesEngine):
    mode = "dask"

    def __init__(self, scheduler: str, workers: int | None) -> None:
        import importlib

        dd: Any = importlib.import_module("distributed")
        self.cluster: Any = None
        self.token = uuid.uuid4().hex[:8]
        if scheduler == "local":
            n = workers or os.cpu_count() or 1
            self.cluster = dd.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: never collide with another cluster
                silence_logs=logging.ERROR,
            )
            self.client: Any = dd.Client(self.cluster)
        else:
            try:
                self.client = dd.Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        nthreads = sum(self.client.nthreads().values())
        super().__init__(max(1, nthreads))
        self.limit = 2 * self.workers

    def _submit(self, task: Task, rep: int) -> Any:
        sc, seed, days, tables, reduce, params = task
        pv = params.get(rep) if params is not None else None
        key = f"borderflow-rep-{self.token}-{seed}-{rep}-{uuid.uuid4().hex[:6]}"
        return self.client.submit(
            run_rep, sc, seed, rep, days, tables, reduce, pv, key=key, pure=False
        )

    def _wait(self, pending: set[Any]) -> set[Any]:
        import importlib

        dd: Any = importlib.import_module("distributed")
        done, _ = dd.wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done)

    def _result(self, fut: Any) -> RepOutput:
        out: RepOutput = fut.result()
        fut.release()
        return out

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(workers: int | None, scheduler: str | None) -> Engine:
    """The engine for ``workers`` (None = all cores, 1 = serial) and a Dask ``scheduler``, if any."""
    if scheduler is not None:
        if not scheduler.strip():
            raise BatchError(
                "scheduler must be 'local' or a Dask scheduler address like tcp://host:8786"
            )
        return _DaskEngine(scheduler, workers)
    n = workers if workers is not None else os.cpu_count() or 1
    return Engine() if n == 1 else _PoolEngine(n)
