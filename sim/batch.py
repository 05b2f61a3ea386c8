"""Monte Carlo batches: replications run serially, on a local process pool or on Dask.

Replication ``rep`` of a batch seeded ``seed`` is ``simulate(scenario, seed=seed, rep=rep)``; its random
streams come from ``SeedSequence(seed, spawn_key=(rep,))``, so KPIs do not depend on where or in which
order replications run (bit-identical serially, on a pool or on a cluster), and two scenarios run
with the same seed see the same draws (common random numbers, used by :func:`compare`).

Execution
    ``workers=1``: in this process. ``workers=K`` (default: all cores): a local
    ``ProcessPoolExecutor``; it forks (fast, workers inherit the loaded network) when this process
    runs no other thread, else uses forkserver. ``scheduler="local"``: a Dask ``LocalCluster`` of
    single-threaded worker processes; ``scheduler="tcp://host:port"``: an existing Dask cluster (its
    workers need Borderflow installed and the network folders at the same paths).
    One task per replication; at most ``2 x workers`` tasks are in flight, and each result is
    processed as it completes, so the parent holds at most that many replications' tables.

Results folder (``out``)
    Each finished replication is written by the parent as Parquet parts (``parts/daily-rep00042.parquet``
    ... and, last, ``parts/kpis-rep00042.parquet``, which marks it complete), each atomically. At the
    end: ``kpis.parquet`` (all replications), ``summary.parquet``/``summary.csv``, the combined
    ``daily/ledger/crossings/flows.parquet`` when reps <= 20 (larger batches: read the parts, e.g.
    ``pd.read_parquet(sorted(Path(out, "parts").glob("daily-rep*.parquet")))``), and ``manifest.json``
    (written at the start with ``complete: false``). ``resume=True`` skips replications whose kpis
    part exists; folders of another scenario, seed, horizon or network are refused.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import itertools
import logging
import multiprocessing
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import store
from sim.errors import SimError
from sim.results import Result, network_for, simulate
from sim.scenario import Scenario, load_scenario
from sim.summary import paired_deltas, summarize

if TYPE_CHECKING:
    import pandas as pd


class BatchError(SimError, ValueError):
    """Bad batch arguments, or the execution backend cannot be used."""


@dataclass(frozen=True)
class RepOutput:
    """What a worker sends back for one replication: KPIs and, for a results folder, Parquet bytes."""

    rep: int
    kpis: dict[str, Any]
    parts: dict[str, bytes] | None
    task_s: float


@dataclass(frozen=True)
class BatchResult:
    """A finished batch: one KPI row per replication (tables stay on disk, in ``out``)."""

    scenario: str
    seed: int
    reps: int
    days: int
    kpis: pd.DataFrame
    mode: str  # "serial", "pool" or "dask"
    workers: int
    wall_s: float
    out: Path | None
    ran: int  # replications run by this call (the others were resumed from ``out``)
    peak_in_flight: int  # most replications submitted but not yet processed at once

    def summary(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean and 95 % Student-t CI per KPI (see :func:`sim.summary.summarize`)."""
        return summarize(self.kpis, columns)


# --- the work of one replication ------------------------------------------------------------------


def _run_rep_local(
    sc: Scenario, seed: int, rep: int, days: int, tables: bool
) -> tuple[RepOutput, Result]:
    t0 = time.perf_counter()
    res = simulate(sc, seed=seed, rep=rep, days=days)
    parts = None
    if tables:
        parts = {
            name: store.parquet_bytes(getattr(res, name).assign(rep=rep))
            for name in store.PART_TABLES
        }
    return RepOutput(rep, res.kpis, parts, time.perf_counter() - t0), res


def run_rep(sc: Scenario, seed: int, rep: int, days: int, tables: bool) -> RepOutput:
    """Run replication ``rep`` (in a worker) and return its KPIs and, if asked, its tables."""
    return _run_rep_local(sc, seed, rep, days, tables)[0]


def _noop() -> int:
    return os.getpid()


# --- execution backends ---------------------------------------------------------------------------

Task = tuple[Scenario, int, int, bool]  # scenario, seed, days, tables


class _Engine:
    mode = "serial"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.limit = 1
        self.peak = 0

    def run(
        self, task: Task, reps: Sequence[int], on_result: Callable[[Result], None] | None
    ) -> Iterator[RepOutput]:
        sc, seed, days, tables = task
        for rep in reps:
            self.peak = max(self.peak, 1)
            out, res = _run_rep_local(sc, seed, rep, days, tables)
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


class _FuturesEngine(_Engine):
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
        sc, seed, days, tables = task
        return self.executor.submit(run_rep, sc, seed, rep, days, tables)

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
                dashboard_address=None,
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
        sc, seed, days, tables = task
        key = f"borderflow-rep-{self.token}-{seed}-{rep}-{uuid.uuid4().hex[:6]}"
        return self.client.submit(run_rep, sc, seed, rep, days, tables, key=key, pure=False)

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


def _engine(workers: int | None, scheduler: str | None) -> _Engine:
    if scheduler is not None:
        if not scheduler.strip():
            raise BatchError(
                "scheduler must be 'local' or a Dask scheduler address like tcp://host:8786"
            )
        return _DaskEngine(scheduler, workers)
    n = workers if workers is not None else os.cpu_count() or 1
    return _Engine() if n == 1 else _PoolEngine(n)


# --- one batch ------------------------------------------------------------------------------------


def _check_args(reps: int, seed: int, days: int | None, workers: int | None) -> None:
    problems = []
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        problems.append(f"reps must be an integer >= 1 (got {reps!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"seed must be an integer >= 0 (got {seed!r})")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        problems.append(f"days must be an integer >= 1 (got {days!r})")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        problems.append(f"workers must be an integer >= 1 (got {workers!r})")
    if problems:
        raise BatchError("; ".join(problems))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _show_progress(progress: bool | None, quiet: bool) -> bool:
    if quiet:
        return False
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _read_kpis_part(folder: Path, rep: int) -> dict[str, Any] | None:
    import pandas as pd

    try:
        row = pd.read_parquet(store.part_path(folder, "kpis", rep))
    except Exception:  # unreadable part (e.g. disk trouble): run the replication again
        return None
    if len(row) != 1:
        return None
    return {str(k): v for k, v in row.iloc[0].to_dict().items()}


def _write_parts(folder: Path, out: RepOutput) -> None:
    import pandas as pd

    for name, data in (out.parts or {}).items():
        store.write_atomic(store.part_path(folder, name, out.rep), data)
    kp = store.parquet_bytes(pd.DataFrame([out.kpis]))
    store.write_atomic(store.part_path(folder, "kpis", out.rep), kp)  # last: marks rep complete


def _batch(
    engine: _Engine,
    sc: Scenario,
    *,
    reps: int,
    seed: int,
    days: int | None,
    out: str | os.PathLike[str] | None,
    resume: bool,
    progress: bool | None,
    quiet: bool,
    on_result: Callable[[Result], None] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> BatchResult:
    import pandas as pd

    horizon = int(days if days is not None else sc.horizon_days)
    folder = Path(out) if out is not None else None
    records: dict[int, dict[str, Any]] = {}
    task_s: dict[int, float] = {}
    manifest: dict[str, Any] = {}
    if folder is not None:
        snap = store.scenario_snapshot(sc)
        ident = store.batch_identity(snap, store.spec_hash(sc), seed, horizon)
        resumed = store.check_results_folder(folder, ident, resume=resume)
        old = store.read_manifest(folder) if resumed else None
        (folder / "parts").mkdir(parents=True, exist_ok=True)
        store.remove_temp_files(folder)
        for rep in sorted(r for r in store.finished_reps(folder) if r < reps):
            rec = _read_kpis_part(folder, rep)
            if rec is not None:
                records[rep] = rec
        manifest = {
            "kind": "batch",
            "identity": ident,
            "scenario": snap,
            **dict(extra or {}),
            "seed": seed,
            "n_reps": reps,
            "days": horizon,
            "execution": {"mode": engine.mode, "workers": engine.workers},
            "versions": store.versions(),
            "git_revision": store.git_revision(),
            "started_at": (old or {}).get("started_at", _now()),
            "resumed_at": [*(old or {}).get("resumed_at", []), *([_now()] if resumed else [])],
            "complete": False,
        }
        store.write_manifest(folder, manifest)
    todo = [r for r in range(reps) if r not in records]
    bar = None
    if _show_progress(progress, quiet):
        from tqdm import tqdm

        bar = tqdm(
            total=reps,
            initial=reps - len(todo),
            desc=sc.name,
            unit="rep",
            file=sys.stderr,
            dynamic_ncols=True,
        )
    engine.peak = 0
    t0 = time.perf_counter()
    try:
        for res in engine.run((sc, seed, horizon, folder is not None), todo, on_result):
            if folder is not None:
                _write_parts(folder, res)
            records[res.rep] = res.kpis
            task_s[res.rep] = res.task_s
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    kpis = pd.DataFrame([records[r] for r in range(reps)])
    if folder is not None:
        store.write_parquet(kpis, folder / "kpis.parquet")
        summ = summarize(kpis)
        store.write_parquet(summ, folder / "summary.parquet")
        store.write_atomic(folder / "summary.csv", summ.to_csv(index=False).encode())
        tables = ["kpis.parquet", "summary.parquet", "summary.csv"]
        if reps <= store.COMBINE_MAX_REPS:
            for name in store.PART_TABLES:
                store.combine_parts(folder, name, range(reps))
                tables.append(f"{name}.parquet")
        manifest.update(
            {
                "seeds": [seed] * reps,
                "reps": list(range(reps)),
                "timings": {
                    "wall_s": [float(x) for x in kpis["wall_s"]] if "wall_s" in kpis else [],
                    "task_s": {str(r): round(s, 4) for r, s in sorted(task_s.items())},
                    "batch_wall_s": round(wall, 3),
                },
                "execution": {
                    "mode": engine.mode,
                    "workers": engine.workers,
                    "context": getattr(engine, "context", None),
                    "peak_in_flight": engine.peak,
                },
                "tables": tables,
                "parts": "parts/{table}-rep{rep:05d}.parquet",
                "finished_at": _now(),
                "written_at": _now(),
                "complete": True,
            }
        )
        store.write_manifest(folder, manifest)
    return BatchResult(
        scenario=sc.name,
        seed=seed,
        reps=reps,
        days=horizon,
        kpis=kpis,
        mode=engine.mode,
        workers=engine.workers,
        wall_s=wall,
        out=folder,
        ran=len(todo),
        peak_in_flight=engine.peak,
    )


def _scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run_batch(
    scenario: Scenario | str | os.PathLike[str],
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
    on_result: Callable[[Result], None] | None = None,
) -> BatchResult:
    """Run replications ``0 .. reps-1`` of ``scenario`` seeded ``seed``; return their KPIs.

    Parameters
    ----------
    scenario : Scenario, or a scenario file path or built-in name.
    reps, seed, days : replications, batch seed (>= 0), horizon (default: the scenario's).
    workers : processes; None = all cores, 1 = in this process (no pool).
    scheduler : "local" for a Dask LocalCluster of ``workers`` processes, or a Dask scheduler
        address ("tcp://host:8786"); mutually exclusive with ``workers`` > 1 on a remote cluster.
    out : results folder (see the module docstring); None = keep KPIs in memory only.
    resume : continue the batch in ``out`` (same scenario, seed, horizon, network), running only
        the replications without a kpis part.
    progress : show a tqdm bar on stderr (default: when stderr is a terminal); quiet: never.
    on_result : called with each replication's full :class:`Result` when running in this
        process (``workers=1``); ignored by pools and clusters.

    Raises :class:`BatchError` or :class:`sim.store.ResultsFolderError` (both ``SimError``) for bad
    arguments or a results folder of another batch.
    """
    _check_args(reps, seed, days, workers)
    sc = _scenario(scenario)
    network_for(sc)  # fail early on a bad network; forked workers inherit it loaded
    engine = _engine(workers, scheduler)
    try:
        return _batch(
            engine,
            sc,
            reps=reps,
            seed=seed,
            days=days,
            out=out,
            resume=resume,
            progress=progress,
            quiet=quiet,
            on_result=on_result,
        )
    finally:
        engine.close()


# --- compare and sweep ----------------------------------------------------------------------------


def compare(
    base: Scenario | str | os.PathLike[str],
    alt: Scenario | str | os.PathLike[str],
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
) -> pd.DataFrame:
    """Paired deltas ALT - BASE per KPI under common random numbers (same seed and reps).

    Returns :func:`sim.summary.paired_deltas`: mean delta with its paired 95 % CI, the unpaired
    (Welch) CI, and ``variance_reduction``. With ``out``: ``out/base/``, ``out/alt/`` (batch results
    folders) and ``out/compare.parquet``.
    """
    _check_args(reps, seed, days, workers)
    sb, sa = _scenario(base), _scenario(alt)
    network_for(sb)
    network_for(sa)
    folder = Path(out) if out is not None else None
    engine = _engine(workers, scheduler)
    try:
        results = [
            _batch(
                engine,
                sc,
                reps=reps,
                seed=seed,
                days=days,
                out=folder / sub if folder is not None else None,
                resume=resume,
                progress=progress,
                quiet=quiet,
                extra={"compare": sub},
            )
            for sub, sc in (("base", sb), ("alt", sa))
        ]
    finally:
        engine.close()
    table = paired_deltas(results[0].kpis, results[1].kpis)
    table.insert(0, "alt", sa.name)
    table.insert(0, "base", sb.name)
    if folder is not None:
        store.write_parquet(table, folder / "compare.parquet")
    return table


def parse_set(text: str) -> tuple[str, list[object]]:
    """``"KEY=V1,V2"`` -> (key, values): :func:`sim.scenario.parse_override` when it exists."""
    import sim.scenario as scenario_mod

    parser = getattr(scenario_mod, "parse_override", None)
    if parser is not None:
        key, values = parser(text)
        return str(key), list(values)
    key, sep, rest = text.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise BatchError(f"--set {text!r}: expected KEY=V1,V2,...")
    parsed: list[object] = []
    for v in (s.strip() for s in rest.split(",")):
        for conv in (int, float):
            try:
                parsed.append(conv(v))
                break
            except ValueError:
                continue
        else:
            parsed.append({"true": True, "false": False}.get(v.lower(), v))
    return key.strip(), parsed


def _load_with_overrides(
    scenario: str | os.PathLike[str], overrides: Mapping[str, object]
) -> Scenario:
    if "overrides" not in inspect.signature(load_scenario).parameters:
        raise BatchError(
            "sweep needs load_scenario(name, overrides=...), which this version of sim.scenario lacks"
        )
    loader: Any = load_scenario
    sc: Scenario = loader(scenario, overrides=dict(overrides))
    return sc


def _point_dir(i: int, point: Mapping[str, object]) -> str:
    label = ",".join(f"{k}={v}" for k, v in point.items())
    return f"{i:03d}_" + re.sub(r"[^A-Za-z0-9._=,+-]", "_", label)[:120]


def sweep(
    scenario: str | os.PathLike[str],
    grid: Mapping[str, Sequence[object]],
    *,
    reps: int,
    seed: int = 0,
    days: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
) -> pd.DataFrame:
    """Run a batch at every point of the full grid of ``grid`` (dotted override keys -> values).

    Every point uses the same seed and replications (common random numbers across points). Returns
    a tidy table: one row per (point, KPI) with one column per grid key, then ``kpi, n, mean,
    half_width, ci_low, ci_high``. With ``out``: ``out/sweep.parquet`` and one batch results folder per
    point (``out/000_key=value,.../``).
    """
    import pandas as pd

    _check_args(reps, seed, days, workers)
    if not grid:
        raise BatchError("sweep needs at least one --set KEY=V1,V2,...")
    keys = list(grid)
    for k in keys:
        if len(grid[k]) == 0:
            raise BatchError(f"--set {k}: no values")
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    scenarios = [_load_with_overrides(scenario, p) for p in points]  # all errors before any run
    for sc in scenarios:
        network_for(sc)
    folder = Path(out) if out is not None else None
    engine = _engine(workers, scheduler)
    frames = []
    try:
        for i, (point, sc) in enumerate(zip(points, scenarios, strict=True)):
            res = _batch(
                engine,
                sc,
                reps=reps,
                seed=seed,
                days=days,
                out=folder / _point_dir(i, point) if folder is not None else None,
                resume=resume,
                progress=progress,
                quiet=quiet,
                extra={"overrides": point, "sweep_point": i},
            )
            summ = res.summary()[["kpi", "n", "mean", "half_width", "ci_low", "ci_high"]]
            for k in reversed(keys):
                summ.insert(0, k, [point[k]] * len(summ))
            summ.insert(0, "point", i)
            frames.append(summ)
    finally:
        engine.close()
    table = pd.concat(frames, ignore_index=True)
    if folder is not None:
        store.write_parquet(table, folder / "sweep.parquet")
    return table
