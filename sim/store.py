"""Results folders: ``manifest.json`` plus Parquet tables, each written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.results import Result

PACKAGES = ("borderflow", "simpy", "numpy", "pandas", "networkx", "pyarrow")


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
    """The git revision of the Borderflow checkout, if there is one."""
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


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
    net = sc.network_path()
    net_files = sorted(net.glob("*.csv")) if net.is_dir() else []
    return {
        "name": sc.name,
        "file": sc.path,
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "network": str(net),
        "network_sha256": file_hash(net_files),
    }


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file and ``os.replace`` (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_run(
    out: str | os.PathLike[str], sc: Scenario, results: Sequence[Result], **extra: Any
) -> Path:
    """Write the results folder of one or more replications; return its path."""
    import pandas as pd

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    kp = pd.DataFrame([r.kpis for r in results])
    daily = pd.concat([r.daily.assign(rep=r.kpis["rep"]) for r in results], ignore_index=True)
    ledger = pd.concat([r.ledger.assign(rep=r.kpis["rep"]) for r in results], ignore_index=True)
    crossings = pd.concat(
        [r.crossings.assign(rep=r.kpis["rep"]) for r in results], ignore_index=True
    )
    flows = pd.concat([r.flows.assign(rep=r.kpis["rep"]) for r in results], ignore_index=True)
    write_parquet(kp, folder / "kpis.parquet")
    write_parquet(daily, folder / "daily.parquet")
    write_parquet(ledger, folder / "ledger.parquet")
    write_parquet(crossings, folder / "crossings.parquet")
    write_parquet(flows, folder / "flows.parquet")
    manifest = {
        "scenario": scenario_snapshot(sc),
        "seeds": [r.kpis["seed"] for r in results],
        "reps": [r.kpis["rep"] for r in results],
        "days": results[0].kpis["days"] if results else None,
        "versions": versions(),
        "git_revision": git_revision(),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "timings": {"wall_s": [r.kpis["wall_s"] for r in results]},
        "tables": [
            "kpis.parquet",
            "daily.parquet",
            "ledger.parquet",
            "crossings.parquet",
            "flows.parquet",
        ],
        **extra,
    }
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
    return folder
