"""Reading a results folder for charts and reports: manifest, KPIs, measures, per-day quantiles.

A results folder (written by ``borderflow run``, ``compare`` or ``sweep``) holds each replication's
compact daily series (``parts/series-repNNNNN.parquet``, see :mod:`sim.analysis.series`) and, once
the batch is complete, ``quantiles.parquet``: per day and series the mean and the 5/50/95 %
quantiles across replications. :func:`write_quantiles` builds it from the parts, reading each once
within a memory budget; :class:`Folder` reads it (building it first for a folder that lacks it), so a
chart of a 1,000-replication batch never loads the daily parts.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.series import series_quantiles
from sim.errors import ResultsFolderError
from sim.io import results_folder as store

if TYPE_CHECKING:
    import pandas as pd

QUANTILES_FILE = "quantiles.parquet"


def write_quantiles(folder: Path, reps: Sequence[int], *, budget_bytes: int = 128_000_000) -> Path:
    """Write ``folder/quantiles.parquet`` from the series parts of ``reps``; return its path.

    Each part is read once (its series columns only); at most ``budget_bytes`` of values are held
    in memory, the rest spilled to an unnamed temporary file in ``folder`` (see
    :func:`~sim.analysis.series.series_quantiles`).
    """
    import pyarrow.parquet as pq

    reps = list(reps)
    if not reps:
        raise ResultsFolderError(f"results folder {folder}: no replications to summarize")
    first = store.part_path(folder, "series", reps[0])
    if not first.exists():
        raise ResultsFolderError(
            f"results folder {folder}: {first.name} is missing (written by an older Borderflow? "
            "run the batch again)"
        )
    schema = pq.read_schema(first)
    columns = [c for c in schema.names if "|" in c]
    days = pq.read_table(first, columns=["day"]).column("day").to_numpy()

    def read_rep(rep: int) -> np.ndarray:
        path = store.part_path(folder, "series", rep)
        try:
            with pq.ParquetFile(path) as part:
                if part.metadata.num_rows != len(days):
                    raise ResultsFolderError(
                        f"results folder {folder}: {path.name} has {part.metadata.num_rows} days, "
                        f"{first.name} has {len(days)}"
                    )
                missing = sorted(set(columns) - set(part.schema_arrow.names))
                if missing:
                    raise ResultsFolderError(
                        f"results folder {folder}: {path.name} lacks the series {missing[0]!r} "
                        f"of {first.name} ({len(missing)} missing)"
                    )
                table = part.read(columns=columns, use_threads=False)
        except FileNotFoundError:
            raise ResultsFolderError(f"results folder {folder}: {path.name} is missing") from None
        values = np.empty((len(columns), len(days)), dtype=np.float32)
        for i, col in enumerate(table.columns):
            values[i] = col.to_numpy()
        return values

    # parquet decoding releases the GIL: a few threads read replications side by side
    threads = min(4, os.cpu_count() or 1)
    table = series_quantiles(
        read_rep, reps, columns, days, budget_bytes=budget_bytes, threads=threads, spill_dir=folder
    )
    target = folder / QUANTILES_FILE
    store.write_parquet(table, target)
    return target


@dataclass(frozen=True)
class Folder:
    """A batch results folder, read for charts: manifest, KPIs, measures and per-day quantiles."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> Folder:
        """Read ``path``'s manifest; :class:`ResultsFolderError` if it is not a results folder."""
        folder = Path(path)
        manifest = store.read_manifest(folder)
        if manifest is None:
            raise ResultsFolderError(f"{folder}: not a results folder (no readable manifest.json)")
        return cls(folder, manifest)

    @property
    def scenario(self) -> str:
        return str(store.identity_of(self.manifest).get("scenario"))

    @property
    def reps(self) -> int:
        return int(self.manifest.get("n_reps") or len(self.manifest.get("reps") or [1]))

    @property
    def seed(self) -> int:
        return int(self.manifest.get("seed") or 0)

    @property
    def days(self) -> int:
        return int(self.manifest.get("days") or 0)

    @property
    def start(self) -> dt.date:
        """Calendar date of day 0 (the scenario's ``start``)."""
        text = self.manifest.get("start")
        if not text:
            raise ResultsFolderError(
                f"{self.path}: the manifest records no start date (written by an older Borderflow)"
            )
        return dt.date.fromisoformat(str(text))

    def dates(self, days: Any) -> pd.DatetimeIndex:
        """Calendar dates of day numbers."""
        import pandas as pd

        return pd.Timestamp(self.start) + pd.to_timedelta(np.asarray(days), unit="D")

    @functools.cached_property
    def measures(self) -> pd.DataFrame:
        """The scenario's measures: id, kind, start, end, announce (Timestamps), params (text)."""
        import pandas as pd

        rows = self.manifest.get("measures") or []
        out = pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "kind": r["kind"],
                    "start": pd.Timestamp(r["start"]),
                    "end": pd.Timestamp(r["end"]) if r.get("end") else pd.NaT,
                    "announce": pd.Timestamp(r["announce"]) if r.get("announce") else pd.NaT,
                    "params": ", ".join(f"{k}={_text(v)}" for k, v in r.get("params", {}).items()),
                }
                for r in rows
            ],
            columns=["id", "kind", "start", "end", "announce", "params"],
        )
        return out

    @functools.cached_property
    def kpis(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.path / "kpis.parquet")

    @functools.cached_property
    def quantiles(self) -> pd.DataFrame:
        """Per-day quantiles across replications (``group, key, day, mean, q05, q50, q95, date``);
        built from the series parts first if the folder lacks them."""
        import pandas as pd

        path = self.path / QUANTILES_FILE
        if not path.exists():
            write_quantiles(self.path, sorted(store.finished_reps(self.path)))
        q = pd.read_parquet(path)
        q["date"] = self.dates(q["day"].to_numpy())
        return q

    def series(self, group: str) -> pd.DataFrame:
        """The quantile rows of one group (e.g. ``backlog_usd``), keys as plain strings."""
        q = self.quantiles
        out = q[q["group"] == group].copy()
        out["key"] = out["key"].astype(str)
        return out.reset_index(drop=True)

    def table(self, name: str, max_reps: int = 20) -> pd.DataFrame:
        """A per-replication table (``flows``, ``crossings``, ...): the combined file, or the parts
        of the first ``max_reps`` replications."""
        import pandas as pd

        whole = self.path / f"{name}.parquet"
        if whole.exists():
            return pd.read_parquet(whole)
        reps = sorted(store.finished_reps(self.path))[:max_reps]
        paths = [store.part_path(self.path, name, r) for r in reps]
        paths = [p for p in paths if p.exists()]
        if not paths:
            raise ResultsFolderError(f"{self.path}: no {name} table")
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)

    def paired_with(self, other: Folder) -> bool:
        """Whether ``other`` ran the same seed, replications and horizon (common random numbers)."""
        return (self.seed, self.reps, self.days) == (other.seed, other.reps, other.days)


def _text(v: object) -> str:
    if isinstance(v, list):
        return "[" + " ".join(str(x) for x in v) + "]"
    return str(v)


def burden_table(alt: Folder, base: Folder) -> pd.DataFrame:
    """Extra burden of ``alt`` over its paired ``base`` per day, tidy.

    Columns ``day, date, country, party, part, usd, cumulative_usd``: ``part`` is ``duty`` (a
    private party's duty after pass-through), ``frictions`` (every other cost kind) or
    ``revenue`` (the government's duty revenue, negative: it offsets the country's burden). ``usd``
    is the mean over replications of alt minus base (the mean of paired differences), and
    ``cumulative_usd`` its running sum. Raises :class:`ResultsFolderError` when the two are not
    paired (same seed, replications and horizon).
    """
    import pandas as pd

    if not alt.paired_with(base):
        raise ResultsFolderError(
            f"{alt.path} and {base.path} are not paired: seeds, replications or horizons differ "
            f"({alt.seed}/{alt.reps}/{alt.days} vs {base.seed}/{base.reps}/{base.days})"
        )
    a = alt.series("burden_usd")[["key", "day", "mean"]]
    b = base.series("burden_usd")[["key", "day", "mean"]]
    m = a.merge(b, on=["key", "day"], how="outer", suffixes=("_alt", "_base")).fillna(0.0)
    m["usd"] = m["mean_alt"] - m["mean_base"]
    parts = m["key"].str.split(":", expand=True)
    out = pd.DataFrame(
        {
            "day": m["day"].astype(int),
            "country": parts[0],
            "party": parts[1],
            "part": parts[2],
            "usd": m["usd"],
        }
    ).sort_values(["country", "party", "part", "day"], ignore_index=True)
    out["cumulative_usd"] = out.groupby(["country", "party", "part"])["usd"].cumsum()
    out.insert(1, "date", alt.dates(out["day"].to_numpy()))
    return out


def us_share(burden: pd.DataFrame) -> pd.DataFrame:
    """US share of the cumulative extra private burden (duty + frictions, US and CA) by day.

    Columns ``day, date, us_share, total_usd``; the share is NaN while the total is not positive.
    """
    import pandas as pd

    priv = burden[burden["part"] != "revenue"]
    priv = priv[priv["country"].isin(["US", "CA"])]
    tot = priv.groupby(["day", "date"])["cumulative_usd"].sum()
    us = priv[priv["country"] == "US"].groupby(["day", "date"])["cumulative_usd"].sum()
    share = (us / tot).where(tot > 0)
    return pd.DataFrame({"us_share": share, "total_usd": tot}).reset_index()
