"""Where replications run: the per-replication task and the serial, process-pool and Dask engines.

A task is one replication, :func:`run_rep`: ``simulate(scenario, seed=seed, rep=rep)`` plus, for a
results folder, the tables it keeps as Parquet bytes, sent back as a :class:`RepOutput`. An engine runs the
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
import signal
import socket
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
Tables = bool | Sequence[str]  # the part tables to send back: names, or True (all) / False (none)


def _table_names(tables: Tables) -> tuple[str, ...]:
    if isinstance(tables, bool):
        return store.PART_TABLES if tables else ()
    return tuple(tables)


def _run_rep_local(
    sc: Scenario,
    seed: int,
    rep: int,
    days: int,
    tables: Tables,
    reduce: Reducer | None = None,
    params: Params = None,
) -> tuple[RepOutput, Result]:
    t0 = time.perf_counter()
    res = simulate(sc, seed=seed, rep=rep, days=days, params=params)
    names = _table_names(tables)
    parts = None
    if names:
        parts = {name: store.part_bytes(name, getattr(res, name).assign(rep=rep)) for name in names}
    extra = reduce(res) if reduce is not None else None
    return RepOutput(rep, res.kpis, parts, time.perf_counter() - t0, extra), res


def run_rep(
    sc: Scenario,
    seed: int,
    rep: int,
    days: int,
    tables: Tables,
    reduce: Reducer | None = None,
    params: Params = None,
) -> RepOutput:
    """Run replication ``rep`` (in a worker) and return its KPIs, the part tables ``tables`` names
    (``True``: all of :data:`sim.io.results_folder.PART_TABLES`), and what ``reduce`` makes of its
    Result (e.g. :func:`sim.analysis.burden.cost_account`). ``params``: set these parameter values
    instead of drawing the uncertain ones (a sensitivity sample)."""
    return _run_rep_local(sc, seed, rep, days, tables, reduce, params)[0]


def _noop() -> int:
    return os.getpid()


def _worker_init() -> None:
    """Pool workers leave Ctrl-C to the parent (which stops them) and die quietly on SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- execution backends ---------------------------------------------------------------------------

# scenario, seed, days, part tables, reducer, parameter values per replication (None: draw them)
Task = tuple[Scenario, int, int, Tables, Reducer | None, Mapping[int, Mapping[str, float]] | None]


def _rep_args(
    task: Task, rep: int
) -> tuple[Scenario, int, int, int, Tables, Reducer | None, Params]:
    """The arguments of :func:`run_rep` for replication ``rep`` of ``task``."""
    sc, seed, days, tables, reduce, params = task
    return sc, seed, rep, days, tables, reduce, params.get(rep) if params is not None else None


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
        for rep in reps:
            self.peak = max(self.peak, 1)
            out, res = _run_rep_local(*_rep_args(task, rep))
            if on_result is not None:
                on_result(res)
            del res
            yield out

    def close(self) -> None:
        return None

    def abort(self) -> None:
        """Stop at once (Ctrl-C, SIGTERM, an error): running replications are abandoned."""
        self.close()


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
            max_workers=workers,
            mp_context=multiprocessing.get_context(self.context),
            initializer=_worker_init,
        )
        # start the workers now, before this process starts any thread (progress bar, pool manager)
        self.executor.submit(_noop).result()

    def _submit(self, task: Task, rep: int) -> Any:
        return self.executor.submit(run_rep, *_rep_args(task, rep))

    def _wait(self, pending: set[Any]) -> set[Any]:
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        procs = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # the running replications are abandoned: stop their workers now
            p.terminate()
        for p in procs:
            p.join(timeout=5)


class _DaskEngine(_FuturesEngine):
    mode = "dask"

    def __init__(self, scheduler: str, workers: int | None) -> None:
        import importlib

        dd: Any = importlib.import_module("distributed")
        self.cluster: Any = None
        self.token = uuid.uuid4().hex[:8]
        if scheduler == "local":
            n = workers or os.cpu_count() or 1
            main = threading.current_thread() is threading.main_thread()
            # the worker processes inherit an ignored SIGINT: Ctrl-C is this process's to handle
            # (it closes the cluster), so they print no tracebacks of their own
            old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                self.cluster = dd.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never collide with another cluster
                    silence_logs=logging.ERROR,
                )
            finally:
                if old is not None:
                    signal.signal(signal.SIGINT, old)
            self.client: Any = dd.Client(self.cluster)
        else:
            probe_scheduler(scheduler)
            try:
                self.client = dd.Client(scheduler, timeout=f"{handshake_s():g}s")
            except (OSError, TimeoutError, ValueError, MemoryError) as exc:
                raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        nthreads = sum(self.client.nthreads().values())
        super().__init__(max(1, nthreads))
        self.limit = 2 * self.workers

    def _submit(self, task: Task, rep: int) -> Any:
        key = f"borderflow-rep-{self.token}-{task[1]}-{rep}-{uuid.uuid4().hex[:6]}"
        return self.client.submit(run_rep, *_rep_args(task, rep), key=key, pure=False)

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


def handshake_s() -> float:
    """Seconds for the whole connection to a Dask scheduler: 10, or BORDERFLOW_DASK_TIMEOUT."""
    try:
        value = float(os.environ.get("BORDERFLOW_DASK_TIMEOUT", "10"))
    except ValueError:
        return 10.0
    return value if 0 < value < 3600 else 10.0


def probe_scheduler(address: str, timeout: float | None = None) -> None:
    """Check that a Dask scheduler answers at ``tcp://host:port`` within ``timeout`` seconds.

    A Dask scheduler greets a new connection with its handshake; anything else (nothing listening,
    an unknown host, a silent listener, a web or SSH server) is a :class:`BatchError` saying what
    was found there. TLS and other protocols are left to Dask.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        if scheme in ("tls", "ucx", "inproc", "ws", "wss"):
            return
        raise BatchError(
            f"Dask scheduler address {address!r}: unknown protocol {scheme!r} "
            "(use 'local' or tcp://host:port)"
        )
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BatchError(
            f"Dask scheduler address {address!r} must be tcp://host:port with a port in 1..65535"
        )
    where = f"the Dask scheduler address {address}"
    timeout = handshake_s() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    try:
        conn = socket.create_connection((host, int(port)), timeout=timeout)
    except socket.gaierror:
        raise BatchError(f"{where}: host {host!r} not found") from None
    except TimeoutError:
        raise BatchError(f"{where}: no answer within {timeout:g} s (firewall?)") from None
    except OSError as exc:
        what = "nothing listens there" if isinstance(exc, ConnectionRefusedError) else exc
        raise BatchError(f"{where}: {what}") from None
    with conn:
        data = b""
        try:
            while len(data) < 64 and b"pickle-protocol" not in data:
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = conn.recv(256)
                if not chunk:
                    break
                data += chunk
        except (TimeoutError, OSError):
            pass
    if b"pickle-protocol" in data or b"compression" in data:
        return
    if not data:
        found = f"a listener that sent nothing within {timeout:g} s or closed the connection"
    else:
        text = data[:40].decode("ascii", "replace").splitlines()[0]
        found = f"a service that is not a Dask scheduler (it says {text!r})"
    raise BatchError(f"{where}: found {found}")


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
