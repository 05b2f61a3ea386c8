"""One batch on an engine: argument checks, the batch loop and its results folder.

:func:`run_on` runs the replications of one scenario on an :class:`~sim.batch.engines.Engine` and returns a
:class:`BatchResult`. With a results folder it checks the folder belongs to the same batch, reuses
the replications whose kpis part exists (resume), writes each finished replication's Parquet parts
(kpis last, marking it complete), and writes the combined tables and ``manifest.json`` (the layout
is described in :mod:`sim.batch`). :func:`sim.batch.run_batch`, :func:`sim.compare.compare` and
:func:`sim.compare.sweep` share an engine across the batches they run through it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.folder import QUANTILES_FILE, write_quantiles
from sim.analysis.result import Result
from sim.analysis.statistics import summarize
from sim.batch.engines import Engine, Reducer, RepOutput, Task, make_engine
from sim.batch.simulate import available_memory, memory_estimate, network_for
from sim.errors import BatchError
from sim.io import results_folder as store
from sim.spec.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd


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
    # rep -> what ``reduce`` made of it (replications run by this call only, not resumed ones)
    extras: dict[int, Any] = field(default_factory=dict)

    def summary(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean and 95 % Student-t CI per KPI (see :func:`sim.analysis.statistics.summarize`)."""
        return summarize(self.kpis, columns)


# ranges of the batch arguments (the command line's options use the same)
LIMITS: dict[str, tuple[int, int]] = {
    "reps": (1, 1_000_000),
    "seed": (0, 2**63 - 1),  # any SeedSequence entropy that a results table's int64 column holds
    "days": (1, 36_500),
    "workers": (1, 1024),
}


def check_args(
    reps: int, seed: int, days: int | None, workers: int | None, keep: str = "all"
) -> None:
    """Raise :class:`BatchError` listing every bad value of ``reps, seed, days, workers, keep``."""
    problems = []
    for name, v in (("reps", reps), ("seed", seed), ("days", days), ("workers", workers)):
        if v is None and name in ("days", "workers"):
            continue
        lo, hi = LIMITS[name]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            problems.append(f"{name} must be an integer in {lo}..{hi:,} (got {v!r})")
    if not isinstance(keep, str) or keep not in store.KEEP:
        problems.append(f"keep must be one of {', '.join(store.KEEP)} (got {keep!r})")
    if problems:
        raise BatchError("; ".join(problems))


@contextmanager
def engine_for(
    scenarios: Sequence[Scenario], workers: int | None, scheduler: str | None
) -> Iterator[Engine]:
    """The engine for ``workers`` / ``scheduler`` (see :func:`sim.batch.engines.make_engine`), closed on exit.

    Loads every scenario's network first: a bad network fails before any worker starts, and forked
    pool workers inherit the networks loaded.
    """
    for sc in scenarios:
        network_for(sc)
    engine = make_engine(workers, scheduler)
    try:
        yield engine
    except (
        BaseException
    ):  # Ctrl-C, SIGTERM or an error: stop the workers now, not after their tasks
        engine.abort()
        raise
    engine.close()


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


def _git_revisions(manifest: dict[str, Any] | None) -> list[str | None]:
    """The git revisions that ran replications into a results folder, oldest first."""
    if manifest is None:
        return []
    revs = manifest.get("git_revisions")
    if isinstance(revs, list):
        return list(revs)
    return [store.identity_of(manifest).get("git_revision")]


def _write_parts(folder: Path, out: RepOutput) -> None:
    import pandas as pd

    for name, data in (out.parts or {}).items():
        store.write_atomic(store.part_path(folder, name, out.rep), data)
    store.write_sums(folder, out.rep, out.parts or {})
    kp = store.parquet_bytes(pd.DataFrame([out.kpis]))
    store.write_atomic(store.part_path(folder, "kpis", out.rep), kp)  # last: marks rep complete


def _open_folder(
    folder: Path,
    engine: Engine,
    sc: Scenario,
    *,
    reps: int,
    seed: int,
    horizon: int,
    resume: bool,
    extra: Mapping[str, Any] | None,
    quiet: bool,
    keep: str = "all",
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """Check ``folder`` belongs to this batch, write its opening manifest, read the finished reps.

    Returns the manifest written (``complete`` false) and the kpis of the replications already done
    (a replication whose parts are missing or fail their checksum is not done: a line says so).
    """
    snap = store.scenario_snapshot(sc)
    versions = store.versions()
    revision = store.git_revision()
    ident = store.batch_identity(
        snap,
        store.spec_hash(sc),
        seed,
        horizon,
        borderflow=versions["borderflow"],
        git_revision=revision,
        keep=keep,
    )
    resumed = store.check_results_folder(folder, ident, resume=resume)
    old = store.read_manifest(folder) if resumed else None
    revisions = _git_revisions(old)
    if revision not in revisions:
        revisions.append(revision)
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    store.remove_temp_files(folder)
    records: dict[int, dict[str, Any]] = {}
    for rep in sorted(r for r in store.finished_reps(folder) if r < reps):
        rec = _read_kpis_part(folder, rep)
        bad = store.bad_parts(folder, rep, store.KEEP[keep]) if rec is not None else ["kpis"]
        if rec is not None and not bad:
            records[rep] = rec
            continue
        store.part_path(folder, "kpis", rep).unlink(missing_ok=True)  # no longer complete
        if not quiet:
            print(
                f"replication {rep}: part {', '.join(bad)} missing or corrupt in {folder}; "
                "running it again",
                file=sys.stderr,
            )
    manifest = {
        "kind": "batch",
        "identity": ident,
        "scenario": snap,
        "start": sc.start.isoformat(),  # calendar date of day 0
        "measures": store.measure_records(sc),
        **dict(extra or {}),
        "seed": seed,
        "n_reps": reps,
        "days": horizon,
        "keep": keep,  # which tables each replication keeps (sim.io.results_folder.KEEP)
        "execution": {"mode": engine.mode, "workers": engine.workers},
        "versions": versions,
        "git_revision": revision,
        "git_revisions": revisions,  # every revision that ran replications into this folder
        "started_at": (old or {}).get("started_at", _now()),
        "resumed_at": [*(old or {}).get("resumed_at", []), *([_now()] if resumed else [])],
        "complete": False,
    }
    store.write_manifest(folder, manifest)
    return manifest, records


LOG_STEPS = 10  # progress without a terminal: a line per tenth of the replications to run


def _progress_line(name: str, done: int, total: int, elapsed: float) -> str:
    left = elapsed / done * (total - done)
    return (
        f"{name}: {done}/{total} replications ({done / total:.0%}) in {elapsed:.1f} s, "
        f"about {left:.0f} s left"
    )


def _check_memory(sc: Scenario, days: int, parallel: int, mode: str, quiet: bool) -> None:
    """Refuse a batch whose replications in flight need more memory than this machine has free;
    warn above half of it. (A remote Dask cluster's memory is its own: not checked.)"""
    if parallel < 1 or mode == "dask":
        return
    per = memory_estimate(network_for(sc), days)
    need, have = per * parallel, available_memory()
    if have is None:
        return
    gib = 2**30
    text = (
        f"{parallel} replication{'s' if parallel != 1 else ''} of {days} days at once "
        f"need{'s' if parallel == 1 else ''} about "
        f"{need / gib:.1f} GiB ({per / gib:.2f} GiB each); {have / gib:.1f} GiB is available"
    )
    if need > 0.9 * have:
        raise BatchError(f"{text}: use fewer --days or --workers")
    if need > 0.5 * have and not quiet:
        print(f"warning: {text}", file=sys.stderr)


def _progress_bar(name: str, total: int, done: int) -> Any:
    """A tqdm bar on stderr for ``total`` replications, ``done`` of them already finished."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=done,
        desc=name,
        unit="rep",
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _run_todo(
    engine: Engine,
    task: Task,
    todo: list[int],
    folder: Path | None,
    bar: Any,
    on_result: Callable[[Result], None] | None,
    log: bool = False,
) -> tuple[dict[int, dict[str, Any]], dict[int, float], dict[int, Any]]:
    """Run the replications ``todo`` on ``engine``, writing each one's parts into ``folder``.

    Returns the kpis, the task seconds and the reducer's value (if the task has a reducer) of each
    replication run; closes ``bar`` at the end. With ``log`` (no terminal for a bar), a line on
    stderr per tenth of ``todo`` done.
    """
    records: dict[int, dict[str, Any]] = {}
    task_s: dict[int, float] = {}
    extras: dict[int, Any] = {}
    t0, logged = time.perf_counter(), 0
    try:
        for done, res in enumerate(engine.run(task, todo, on_result), start=1):
            if folder is not None:
                _write_parts(folder, res)
            records[res.rep] = res.kpis
            task_s[res.rep] = res.task_s
            if task[4] is not None:
                extras[res.rep] = res.extra
            if bar is not None:
                bar.update(1)
            step = done * LOG_STEPS // len(todo)  # whole tenths done
            if log and step > logged:
                line = _progress_line(task[0].name, done, len(todo), time.perf_counter() - t0)
                print(line, file=sys.stderr)
                logged = step
    finally:
        if bar is not None:
            bar.close()
    return records, task_s, extras


def _write_tables(
    folder: Path, kpis: pd.DataFrame, reps: int, kept: Sequence[str] = store.PART_TABLES
) -> list[str]:
    """Write the combined tables of a finished batch (of the part tables ``kept``) into
    ``folder``; return their file names."""
    store.write_parquet(kpis, folder / "kpis.parquet")
    summ = summarize(kpis)
    store.write_parquet(summ, folder / "summary.parquet")
    store.write_atomic(folder / "summary.csv", summ.to_csv(index=False).encode())
    write_quantiles(folder, range(reps))
    tables = ["kpis.parquet", "summary.parquet", "summary.csv", QUANTILES_FILE]
    for name in kept:
        if reps <= store.COMBINE_MAX_REPS:
            store.combine_parts(folder, name, range(reps))
            tables.append(f"{name}.parquet")
        else:  # a resumed batch grown past the limit: drop the smaller batch's table
            (folder / f"{name}.parquet").unlink(missing_ok=True)
    return tables


def _close_folder(
    folder: Path,
    manifest: dict[str, Any],
    engine: Engine,
    *,
    kpis: pd.DataFrame,
    seed: int,
    reps: int,
    task_s: Mapping[int, float],
    wall: float,
) -> None:
    """Write the combined tables and the complete manifest of a finished batch."""
    tables = _write_tables(folder, kpis, reps, store.KEEP[manifest.get("keep", "all")])
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


def run_on(
    engine: Engine,
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
    reduce: Reducer | None = None,
    params: Mapping[int, Mapping[str, float]] | None = None,
    keep: str = "all",
) -> BatchResult:
    """Run replications ``0 .. reps-1`` of ``sc`` on ``engine``; ``extra`` goes into the manifest;
    ``reduce`` (a module-level function of a Result) runs in the worker, its value lands in
    ``BatchResult.extras``; ``params`` maps a replication to the parameter values it runs with
    (instead of drawing the scenario's uncertain ones); ``keep``: which tables of each
    replication a results folder keeps (:data:`sim.io.results_folder.KEEP`)."""
    import pandas as pd

    horizon = int(days if days is not None else sc.horizon_days)
    folder = Path(out) if out is not None else None
    records: dict[int, dict[str, Any]] = {}
    manifest: dict[str, Any] = {}
    if folder is not None:
        manifest, records = _open_folder(
            folder,
            engine,
            sc,
            reps=reps,
            seed=seed,
            horizon=horizon,
            resume=resume,
            extra=extra,
            quiet=quiet,
            keep=keep,
        )
    todo = [r for r in range(reps) if r not in records]
    _check_memory(sc, horizon, min(engine.workers, len(todo)), engine.mode, quiet)
    bar = (
        _progress_bar(sc.name, reps, reps - len(todo)) if _show_progress(progress, quiet) else None
    )
    engine.peak = 0
    t0 = time.perf_counter()
    log = bar is None and progress is None and not quiet and len(todo) > 1  # a log, not a bar
    ran, task_s, extras = _run_todo(
        engine,
        (sc, seed, horizon, store.KEEP[keep] if folder is not None else (), reduce, params),
        todo,
        folder,
        bar,
        on_result,
        log,
    )
    records.update(ran)
    wall = time.perf_counter() - t0
    kpis = pd.DataFrame([records[r] for r in range(reps)])
    if folder is not None:
        _close_folder(
            folder, manifest, engine, kpis=kpis, seed=seed, reps=reps, task_s=task_s, wall=wall
        )
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
        extras=extras,
    )
