"""Results folders: ``manifest.json`` plus Parquet tables, each written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ResultsFolderError
from sim.io.paths import network_path
from sim.spec.measures import ALL_KEYS
from sim.spec.scenario import Measure, Scenario

if TYPE_CHECKING:
    import pandas as pd

PACKAGES = ("borderflow", "simpy", "numpy", "pandas", "networkx", "pyarrow", "dask", "distributed")


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision() -> str | None:
    """The git revision of the Borderflow checkout this code runs from; None for an installed wheel.

    An installed package may sit inside some other git repository (a project's ``.venv``): only a
    repository whose top level holds this ``sim/`` package counts.
    """
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != here.parents[1]:
        return None
    return lines[1]


def file_hash(paths: Sequence[Path]) -> str:
    """SHA-256 over the bytes of the given files, in order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def scenario_snapshot(sc: Scenario) -> dict[str, Any]:
    """The scenario file's text and hash, plus the network files' hash."""
    text = Path(sc.path).read_text(encoding="utf-8") if sc.path else ""
    net = network_path(sc)
    net_files = sorted(net.glob("*.csv")) if net.is_dir() else []
    return {
        "name": sc.name,
        "file": sc.path,
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "network": str(net),
        "network_sha256": file_hash(net_files),
    }


# every key a measure kind declares (announce has its own columns)
_MEASURE_PARAMS = tuple(k.name for k in ALL_KEYS if k.name != "announce")


def measure_records(sc: Scenario) -> list[dict[str, Any]]:
    """The scenario's measures as plain rows: id, kind, calendar dates (ISO; ``end`` and
    ``announce`` None when absent), day numbers, and the parameters that differ from their defaults.
    """
    defaults = Measure(id="", kind="", start=0)
    rows = []
    for m in sc.measures:
        params = {
            k: list(v) if isinstance(v, tuple) else v
            for k in _MEASURE_PARAMS
            if (v := getattr(m, k)) != getattr(defaults, k)
        }
        rows.append(
            {
                "id": m.id,
                "kind": m.kind,
                "start": sc.date(m.start).isoformat(),
                "end": sc.date(m.end).isoformat() if m.end is not None else None,
                "announce": sc.date(m.announce).isoformat() if m.announce is not None else None,
                "start_day": m.start,
                "end_day": m.end,
                "announce_day": m.announce,
                "params": params,
            }
        )
    return rows


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file, fsync and ``os.replace`` (never a half-written file)."""
    tmp = _tmp_name(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _tmp_name(path: Path) -> Path:
    """The temporary name ``path`` is written under: hidden, ``.tmp`` suffix, never a part's name."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def parquet_bytes(df: pd.DataFrame, **options: Any) -> bytes:
    """A DataFrame as Parquet file bytes (for shipping tables from worker processes); ``options``
    go to :func:`pyarrow.parquet.write_table`."""
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False, **options)
    return buf.getvalue()


def part_bytes(table: str, df: pd.DataFrame) -> bytes:
    """One replication's part of ``table`` as Parquet bytes.

    Borderflow reads parts whole (quantiles, combined tables, checksums), so no column statistics
    are written: the long daily table encodes 40 % faster (a filtered read still works, it only
    cannot skip row groups). The series table's float columns are not dictionary-encoded (its
    values rarely repeat: half the time, a smaller file).
    """
    return parquet_bytes(df, write_statistics=False, use_dictionary=table != "series")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically (see :func:`write_atomic`)."""
    write_atomic(path, parquet_bytes(df))


# --- batch results folders ------------------------------------------------------------------------
#
# A batch writes each finished replication as its own Parquet parts, then the combined tables:
#
#     DIR/manifest.json                  written at the start (complete: false), rewritten at the end
#     DIR/parts/daily-rep00042.parquet   ... ledger-, crossings-, flows-, plants- ... and, written LAST,
#     DIR/parts/kpis-rep00042.parquet    whose presence marks replication 42 complete
#     DIR/kpis.parquet                   all replications, sorted by rep
#     DIR/daily.parquet ...              combined tables, only for batches of <= COMBINE_MAX_REPS
#     DIR/summary.parquet, summary.csv   mean and 95 % CI per KPI
#
# Temporary files are hidden (``.name.PID.tmp``) and never match a part's name. Larger batches are
# read from the parts: ``pd.read_parquet(sorted(Path(DIR, "parts").glob("daily-rep*.parquet")))``.

PART_TABLES = ("daily", "ledger", "crossings", "flows", "plants", "series")
COMBINE_MAX_REPS = 20
# what a batch keeps of each replication besides its KPIs (``keep``): every table, or what the
# per-day quantiles and the figures read (the long daily, ledger and plants tables are not written)
KEEP: dict[str, tuple[str, ...]] = {
    "all": PART_TABLES,
    "quantiles": ("crossings", "flows", "series"),
}


def part_path(folder: Path, table: str, rep: int) -> Path:
    """Path of one replication's part of one table."""
    return folder / "parts" / f"{table}-rep{rep:05d}.parquet"


def sums_path(folder: Path, rep: int) -> Path:
    """Path of one replication's checksums of its parts (written just before its kpis part)."""
    return folder / "parts" / f"sha256-rep{rep:05d}.json"


def write_sums(folder: Path, rep: int, parts: dict[str, bytes]) -> None:
    """Record the SHA-256 of each part of replication ``rep``, so a resume can check them."""
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in parts.items()}
    write_atomic(sums_path(folder, rep), json.dumps(sums, sort_keys=True).encode())


def bad_parts(folder: Path, rep: int, tables: Sequence[str] = PART_TABLES) -> list[str]:
    """The parts of a finished replication that are missing or do not match their checksum.

    A folder written before checksums were kept is checked by reading each part's Parquet footer.
    """
    try:
        sums = json.loads(sums_path(folder, rep).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        sums = None
    bad = []
    for name in tables:
        path = part_path(folder, name, rep)
        try:
            if isinstance(sums, dict):
                ok = hashlib.sha256(path.read_bytes()).hexdigest() == sums.get(name)
            else:
                import pyarrow.parquet as pq

                pq.read_metadata(path)
                ok = True
        except Exception:  # missing, unreadable or not Parquet: the part is bad
            ok = False
        if not ok:
            bad.append(name)
    return bad


def finished_reps(folder: Path) -> set[int]:
    """Replications whose kpis part exists (the kpis part is written last)."""
    done: set[int] = set()
    for p in (folder / "parts").glob("kpis-rep*.parquet"):
        stem = p.name[len("kpis-rep") : -len(".parquet")]
        if stem.isdigit():
            done.add(int(stem))
    return done


def remove_temp_files(folder: Path) -> int:
    """Delete temporary files left by a killed writer; return how many."""
    n = 0
    for d in (folder, folder / "parts"):
        for p in d.glob(".*.tmp") if d.is_dir() else ():
            p.unlink(missing_ok=True)
            n += 1
    return n


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none (or it cannot be parsed)."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())


def spec_hash(sc: Scenario) -> str:
    """SHA-256 of the scenario as loaded (covers overrides, which the file text does not show).

    Where the scenario was read from (``path``, ``sources``) is left out: ``baseline`` and
    ``experiments/scenarios/baseline.toml`` are the same batch. The merged values cover what the
    files (this one and its ``extends`` chain) say.
    """
    import dataclasses

    spec = dataclasses.replace(sc, path=None, sources=())
    return hashlib.sha256(repr(spec).encode()).hexdigest()


def batch_identity(
    snapshot: dict[str, Any],
    spec_sha256: str,
    seed: int,
    days: int,
    *,
    borderflow: str,
    git_revision: str | None,
    keep: str = "all",
) -> dict[str, Any]:
    """What a results folder's replications depend on.

    A resumed batch must match it exactly, except ``git_revision`` (a warning when it differs):
    ``borderflow`` is the package version, ``git_revision`` the checkout's commit, if any;
    ``keep`` (recorded unless ``"all"``) which tables each replication keeps (:data:`KEEP`).
    """
    return {
        "scenario": snapshot["name"],
        "scenario_sha256": snapshot["sha256"],
        "spec_sha256": spec_sha256,
        "network_sha256": snapshot["network_sha256"],
        "seed": seed,
        "days": days,
        "borderflow": borderflow,
        "git_revision": git_revision,
        **({"keep": keep} if keep != "all" else {}),
    }


def identity_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The identity recorded in a manifest; older folders' from the rest of their manifest."""
    ident = manifest.get("identity")
    versions = manifest.get("versions")
    code = {
        "borderflow": versions.get("borderflow") if isinstance(versions, dict) else None,
        "git_revision": manifest.get("git_revision"),
    }
    if isinstance(ident, dict):
        return {**code, **ident}
    snap = manifest.get("scenario") or {}
    seeds = manifest.get("seeds") or [None]
    return {
        "scenario": snap.get("name"),
        "scenario_sha256": snap.get("sha256"),
        "spec_sha256": None,
        "network_sha256": snap.get("network_sha256"),
        "seed": manifest.get("seed", seeds[0]),
        "days": manifest.get("days"),
        **code,
    }


def _describe(ident: dict[str, Any]) -> str:
    return f"scenario {ident.get('scenario')} seed {ident.get('seed')} days {ident.get('days')}"


def _short(rev: object) -> str:
    return str(rev)[:12] if rev else "unknown"


def _existing_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a results folder that has content; None for a missing or empty folder.
    Refuses a file in its place and a non-empty folder without a readable manifest."""
    if folder.exists() and not folder.is_dir():
        raise ResultsFolderError(f"results folder {folder} is a file: use another --out")
    if not folder.is_dir() or not any(folder.iterdir()):
        return None
    manifest = read_manifest(folder)
    if manifest is None:
        raise ResultsFolderError(
            f"results folder {folder} is not empty and holds no readable manifest.json: "
            "use another --out or delete the folder"
        )
    return manifest


def check_results_folder(folder: Path, identity: dict[str, Any], *, resume: bool) -> bool:
    """Make sure a batch may write to ``folder``; return True when it resumes an earlier batch.

    Refuses (:class:`ResultsFolderError`) a non-empty folder without a manifest, a folder of another
    scenario, seed, horizon, network or borderflow version, and a folder of the same batch unless
    ``resume``. Resuming a batch written by another git revision (same version) prints a warning on
    stderr: the folder will hold replications of both revisions.
    """
    manifest = _existing_manifest(folder)
    if manifest is None:
        return False
    old = identity_of(manifest)
    keys = ("scenario", "scenario_sha256", "network_sha256", "seed", "days")
    differs = [k for k in keys if old.get(k) != identity[k]]
    if old.get("spec_sha256") is not None and old["spec_sha256"] != identity["spec_sha256"]:
        differs.append("spec_sha256")
    if differs:
        what = _describe(old)
        this = _describe(identity)
        if what == this:  # same names, different contents
            what += f" ({', '.join(differs)} {str(old.get(differs[0]))[:12]})"
            this += f" ({', '.join(differs)} {str(identity[differs[0]])[:12]})"
        raise ResultsFolderError(
            f"results folder {folder} holds {what}; this run is {this}: "
            "use another --out or delete the folder"
        )
    kept, keep = old.get("keep", "all"), identity.get("keep", "all")
    if kept != keep:
        raise ResultsFolderError(
            f"results folder {folder} holds a batch of {_describe(old)} that keeps {kept!r} of "
            f"each replication; this run keeps {keep!r}: use the same keep (--keep {kept}), "
            "another --out, or delete the folder"
        )
    if old.get("borderflow") is not None and old["borderflow"] != identity["borderflow"]:
        raise ResultsFolderError(
            f"results folder {folder} holds a batch of {_describe(old)} written by borderflow "
            f"{old['borderflow']}; this is borderflow {identity['borderflow']}, whose replications "
            "must not be mixed with it: use another --out or delete the folder"
        )
    if not resume:
        state = "a complete" if manifest.get("complete") else "an incomplete"
        raise ResultsFolderError(
            f"results folder {folder} already holds {state} batch of {_describe(old)}: "
            "pass --resume to finish or extend it (resume=True), or use another --out"
        )
    if old.get("git_revision") != identity["git_revision"]:
        print(
            f"warning: results folder {folder} was written by git revision "
            f"{_short(old.get('git_revision'))}; this run is git revision "
            f"{_short(identity['git_revision'])} (both borderflow {identity['borderflow']}): "
            "the batch will hold replications of both revisions",
            file=sys.stderr,
        )
    return True


_KINDS = ("batch", "compare", "sweep")


def clear_for_overwrite(folder: Path) -> None:
    """Empty a results folder for ``--overwrite``: only one that Borderflow wrote (it has a manifest)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ResultsFolderError(f"results folder {folder} is a file: use another --out")
    if not any(folder.iterdir()):
        return
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") not in _KINDS:
        raise ResultsFolderError(
            f"--overwrite: {folder} holds no Borderflow manifest.json, so it is not deleted: "
            "use another --out"
        )
    import shutil

    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def check_group_folder(
    folder: Path, kind: str, identity: dict[str, Any], *, resume: bool
) -> dict[str, Any] | None:
    """Make sure a compare or sweep may write to ``folder``; return the old manifest if it resumes.

    Like :func:`check_results_folder`: a non-empty folder without a manifest, one of another kind,
    of other scenarios, grid, seed, horizon or network is refused, and one of the same
    comparison or sweep unless ``resume``.
    """
    manifest = _existing_manifest(folder)
    if manifest is None:
        return None
    old_kind = manifest.get("kind")
    if old_kind != kind:
        raise ResultsFolderError(
            f"results folder {folder} holds a {old_kind}, not a {kind}: use another --out "
            "(or --overwrite)"
        )
    old = manifest.get("identity") or {}
    differs = [k for k in identity if old.get(k) != identity[k]]
    if differs:
        shown = ", ".join(f"{k} {str(old.get(k))[:40]!s} (this run: {str(identity[k])[:40]})"
                          for k in differs)  # fmt: skip
        raise ResultsFolderError(
            f"results folder {folder} holds another {kind}: {shown}: use another --out "
            "(or --overwrite)"
        )
    if not resume:
        state = "a complete" if manifest.get("complete") else "an incomplete"
        raise ResultsFolderError(
            f"results folder {folder} already holds {state} {kind} of the same scenarios: "
            "pass --resume to finish it, or --overwrite to start again"
        )
    return manifest


def combine_parts(folder: Path, table: str, reps: Sequence[int]) -> Path:
    """Stream the parts of ``table`` for ``reps`` (in order) into ``folder/table.parquet``.

    One part is in memory at a time (pyarrow row groups); falls back to pandas when the parts'
    column types differ (e.g. an empty table whose text columns have no type).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = folder / f"{table}.parquet"
    tmp = _tmp_name(target)
    writer: pq.ParquetWriter | None = None
    try:
        for rep in reps:
            t = pq.read_table(part_path(folder, table, rep))
            if writer is None:
                writer = pq.ParquetWriter(tmp, t.schema)
            elif not t.schema.equals(writer.schema, check_metadata=False):
                t = t.cast(writer.schema)
            writer.write_table(t.replace_schema_metadata(writer.schema.metadata))
        if writer is not None:
            writer.close()
            writer = None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        import pandas as pd

        frames = [pd.read_parquet(part_path(folder, table, rep)) for rep in reps]
        write_parquet(pd.concat(frames, ignore_index=True), target)
        return target
    if not tmp.exists():
        return target
    _fsync(tmp)
    os.replace(tmp, target)
    return target
