"""The figures of a results folder, written as files (``borderflow plot``) or embedded in one
self-contained HTML page (``borderflow report``).

A folder is a batch (``borderflow run``; one replication is a batch of one), a ``compare`` folder
(``base/``, ``alt/`` and ``compare.parquet``) or a ``sweep`` folder (``sweep.parquet`` and one batch
per grid point). Given several batch folders, a report pairs each with a folder of the scenario
``baseline`` run with the same seed, replications and horizon, and draws who pays against it.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.folder import Folder, burden_table, us_share
from sim.analysis.statistics import main_kpis, summarize
from sim.errors import ResultsFolderError
from sim.viz import burden, maps, stats, timeseries
from sim.viz.common import money

DIST_KPIS = ("backlog_peak", "fill_rate", "cost_us_private_usd", "cost_ca_private_usd")


@dataclass(frozen=True)
class Plot:
    """One figure of a report: a file name (without suffix), a caption and the figure."""

    name: str
    caption: str
    figure: Figure


@dataclass(frozen=True)
class Study:
    """What one report section shows: a batch, its paired baseline (if any) and the tables
    of ``compare`` or ``sweep``."""

    title: str
    path: Path
    folder: Folder | None
    baseline: Folder | None = None
    compare: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None


def study_of(path: str | Path) -> Study:
    """Read a results folder of any kind; :class:`ResultsFolderError` if it is none."""
    p = Path(path)
    if (p / "compare.parquet").exists():
        alt, base = Folder.open(p / "alt"), Folder.open(p / "base")
        table = pd.read_parquet(p / "compare.parquet")
        return Study(f"{alt.scenario} vs {base.scenario}", p, alt, base, compare=table)
    if (p / "sweep.parquet").exists():
        return Study(f"sweep in {p.name}", p, None, sweep=pd.read_parquet(p / "sweep.parquet"))
    if not (p / "manifest.json").exists():
        raise ResultsFolderError(f"{p}: not a results folder (no manifest.json, compare.parquet or sweep.parquet)")
    f = Folder.open(p)
    return Study(f.scenario, p, f)


def studies_of(paths: Sequence[str | Path]) -> list[Study]:
    """Studies of ``paths``; a batch folder of another scenario gets a paired ``baseline`` folder
    from among ``paths`` when there is one."""
    studies = [study_of(p) for p in paths]
    bases = [s.folder for s in studies if s.folder is not None and s.baseline is None and s.folder.scenario == "baseline"]
    out = []
    for s in studies:
        if s.folder is not None and s.baseline is None and s.folder.scenario != "baseline":
            pair = next((b for b in bases if b.paired_with(s.folder)), None)
            s = Study(s.title, s.path, s.folder, pair, s.compare, s.sweep)
        out.append(s)
    return out


def _figure(w: float, h: float) -> Figure:
    return Figure(figsize=(w, h), layout="constrained")


def plots(study: Study) -> Iterator[Plot]:
    """The figures of a study, drawn one at a time."""
    f = study.folder
    if f is not None:
        fig = _figure(12.0, 6.5)
        timeseries.backlog(f, fig.add_subplot())
        yield Plot("backlog", "Backlog by sector (US$ at customs value): median across replications, 5–95 % band, and the policy timeline (bars: measures; ▼: announcements).", fig)
        if study.baseline is not None:
            table = burden_table(f, study.baseline)
            fig = _figure(12.0, 8.0)
            a, b = fig.subplots(2, 1, height_ratios=[2.2, 1.0], sharex=True)
            burden.who_pays(table, a)
            burden.us_share(us_share(table), b)
            yield Plot("who_pays", f"Who pays: cumulative extra burden of {f.scenario} over the paired {study.baseline.scenario} run (mean of paired differences), and the US share of the extra private burden.", fig)
        fig = _figure(12.0, 8.0)
        a, b = fig.subplots(2, 1, sharex=True)
        timeseries.crossing_load(f, a)
        timeseries.crossing_waits(f, b)
        yield Plot("crossings", "Load (vehicles per day, incl. background) and waits (p50 solid, p95 dashed) at the four busiest southbound crossings.", fig)
        fig = _figure(12.0, 7.5)
        a, b = fig.subplots(2, 1, height_ratios=[1.6, 1.0], sharex=True)
        timeseries.plant_output(f, a)
        timeseries.plant_downtime(f, b)
        yield Plot("plants", "Plant output as % of the 2024 base outflow (the plants hit hardest) and the line-hours lost when inputs run short.", fig)
        if study.baseline is not None:
            fig = _figure(16.0, 5.8)
            maps.network_maps(f, study.baseline, fig)
            yield Plot("map", "The network: lanes by mean US$ shipped per day, sites by sector, crossings by 95th-percentile wait; baseline left, scenario right.", fig)
        else:
            fig = _figure(10.0, 6.0)
            maps.network_map(f, fig.add_subplot())
            yield Plot("map", "The network: lanes by mean US$ shipped per day, sites by sector, crossings by 95th-percentile wait.", fig)
        if f.reps > 1:
            fig = _figure(12.0, 6.5)
            axes = fig.subplots(2, 2).ravel()
            for ax, kpi in zip(axes, DIST_KPIS, strict=True):
                stats.kpi_distribution(f.kpis, kpi, ax, legend=False)
            fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=3, fontsize=8, frameon=False)
            yield Plot("kpis", "Distributions of the main KPIs across replications, with the mean and its 95 % confidence interval.", fig)
    if study.compare is not None:
        fig = _figure(10.0, 6.5)
        stats.compare_deltas(study.compare, fig.add_subplot(), kpis=main_kpis(list(study.compare["kpi"])))
        yield Plot("compare", "Paired deltas (ALT - BASE) as % of the base mean, paired 95 % CI (thick) and unpaired (thin).", fig)
    if study.sweep is not None:
        for kpi in ("cost_total_usd", "backlog_peak"):
            if kpi in set(study.sweep["kpi"]):
                fig = _figure(8.0, 5.0)
                stats.sweep_heatmap(study.sweep, kpi, fig.add_subplot())
                yield Plot(f"sweep_{kpi}", f"Mean {kpi} at every grid point.", fig)


def plot(path: str | Path, fmt: str = "png") -> list[Path]:
    """Write the figures of a results folder into it as ``<name>.<fmt>`` (png or svg)."""
    if fmt not in ("png", "svg"):
        raise ResultsFolderError(f"--format must be png or svg (got {fmt!r})")
    study = studies_of([path])[0]
    written = []
    for p in plots(study):
        target = study.path / f"{p.name}.{fmt}"
        p.figure.savefig(target, dpi=110)
        written.append(target)
    return written


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _num(kpi: str, v: float) -> str:
    """A KPI value as text: US$ with a suffix, else four significant digits; '–' when undefined."""
    if v != v:  # NaN
        return "–"
    return money(v) if stats.is_money(kpi) else f"{v:.4g}"


def _kpi_table(kpis: pd.DataFrame) -> str:
    summ = summarize(kpis, main_kpis(list(kpis.columns)))
    rows = []
    for r in summ.to_dict("records"):
        k = str(r["kpi"])

        def fmt(v: float, k: str = k) -> str:
            return _num(k, v)

        ci = f"{fmt(r['ci_low'])} – {fmt(r['ci_high'])}" if r["n"] > 1 and r["ci_low"] == r["ci_low"] else "–"
        rows.append(f"<tr><td>{html.escape(stats.kpi_label(k))}</td><td>{r['n']}</td><td>{html.escape(fmt(r['mean']))}</td><td>{html.escape(ci)}</td></tr>")
    return "<table><tr><th>KPI (unit)</th><th>n</th><th>mean</th><th>95 % CI of the mean</th></tr>" + "".join(rows) + "</table>"


def _compare_table(t: pd.DataFrame) -> str:
    t = t[t["kpi"].isin(main_kpis(list(t["kpi"])))]
    rows = []
    for r in t.to_dict("records"):
        k = str(r["kpi"])

        def fmt(v: float, k: str = k) -> str:
            return _num(k, v)

        rows.append(
            f"<tr><td>{html.escape(stats.kpi_label(k))}</td><td>{html.escape(fmt(r['base_mean']))}</td><td>{html.escape(fmt(r['alt_mean']))}</td>"
            f"<td>{html.escape(fmt(r['delta_mean']))}</td><td>{html.escape(fmt(r['ci_low']) + ' – ' + fmt(r['ci_high']) if r['ci_low'] == r['ci_low'] else '–')}</td></tr>"
        )
    return "<table><tr><th>KPI (unit)</th><th>base</th><th>alt</th><th>delta (ALT − BASE)</th><th>paired 95 % CI</th></tr>" + "".join(rows) + "</table>"


def _measures_table(f: Folder) -> str:
    m = f.measures
    if not len(m):
        return "<p>No measures: the scenario runs undisturbed.</p>"

    def d(x: object) -> str:
        return x.date().isoformat() if isinstance(x, pd.Timestamp) and pd.notna(x) else "–"

    rows = "".join(
        f"<tr><td>{html.escape(str(r.id))}</td><td>{html.escape(str(r.kind))}</td><td>{d(r.announce)}</td><td>{d(r.start)}</td><td>{d(r.end) if isinstance(r.end, pd.Timestamp) else 'open-ended'}</td><td class=params>{html.escape(str(r.params))}</td></tr>"
        for r in m.itertuples(index=False)
    )
    return "<table><tr><th>measure</th><th>kind</th><th>announced</th><th>start</th><th>end (exclusive)</th><th>parameters</th></tr>" + rows + "</table>"


def _manifest(f: Folder) -> str:
    shown = {k: v for k, v in f.manifest.items() if k not in ("timings",)}
    snap = dict(shown.get("scenario") or {})
    snap.pop("text", None)
    shown["scenario"] = snap
    return f"<details><summary>manifest.json ({html.escape(str(f.path))})</summary><pre>{html.escape(json.dumps(shown, indent=2, default=str))}</pre></details>"


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#555}
table{border-collapse:collapse;font-size:.88em;margin:.8em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;vertical-align:top}
td:first-child,th:first-child{text-align:left}td.params{text-align:left;font-family:monospace;font-size:.9em}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}
"""

# Records in the page whether every image decoded (the browser test reads it; harmless elsewhere).
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
"""


def report(paths: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """Write one self-contained HTML report of ``paths`` (figures as inline PNG, KPI tables with
    units and intervals, the measures, the manifest); return its path (default
    ``<first folder>/report.html``)."""
    studies = studies_of(paths)
    target = Path(out) if out is not None else Path(paths[0]) / "report.html"
    parts = [f"<h1>Borderflow report: {html.escape(', '.join(s.title for s in studies))}</h1>",
             f"<p>Written {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} from {html.escape(', '.join(str(s.path) for s in studies))}.</p>"]
    for s in studies:
        f = s.folder
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if f is not None:
            parts.append(
                f"<p>Scenario <b>{html.escape(f.scenario)}</b>, {f.reps} replication{'s' if f.reps != 1 else ''}, seed {f.seed}, "
                f"{f.days} days from {f.start.isoformat()}"
                + (f"; paired baseline: {html.escape(str(s.baseline.path))}" if s.baseline is not None else "")
                + ".</p>"
            )
            parts.append("<h3>KPIs</h3>" + _kpi_table(f.kpis))
        if s.compare is not None:
            parts.append("<h3>Paired deltas</h3>" + _compare_table(s.compare))
        for p in plots(s):
            parts.append(f"<figure><img alt=\"{html.escape(p.name)}\" src=\"data:image/png;base64,{_png(p.figure)}\"><figcaption>{html.escape(p.caption)}</figcaption></figure>")
        if f is not None:
            parts.append("<h3>Measures</h3>" + _measures_table(f))
            parts.append(_manifest(f))
            if s.baseline is not None:
                parts.append(_manifest(s.baseline))
    page = (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Borderflow report</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
