"""Results that plot directly, and the figures drawn from them: content checked against the data."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import warnings
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import sim
from sim.analysis.folder import write_quantiles
from sim.analysis.series import series_quantiles
from sim.cli import main
from sim.viz import timeseries

MEASURES = """
[[measures]]
id = "us_auto_tariff"
kind = "tariff"
imposer = "US"
origin = "CA"
sectors = ["auto"]
rate = 0.25
start = 2025-01-15
announce = 2025-01-08

[[measures]]
id = "ca_counter"
kind = "tariff"
imposer = "CA"
origin = "US"
rate = 0.25
start = 2025-01-22

[[measures]]
id = "bridge_slow"
kind = "slowdown"
crossings = ["X_AMB"]
direction = "sb"
capacity_factor = 0.3
start = 2025-01-20
end = 2025-02-10
"""


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A paired compare on the default network without and with three measures (3 reps, 60 days)."""
    d = tmp_path_factory.mktemp("viz")
    (d / "base.toml").write_text('name = "baseline"\nhorizon_days = 60\n', encoding="utf-8")
    (d / "alt.toml").write_text(f'name = "pressure"\nhorizon_days = 60\n{MEASURES}', encoding="utf-8")
    sim.compare(d / "base.toml", d / "alt.toml", reps=3, seed=7, workers=1, out=d / "cmp", quiet=True)
    return d / "cmp"


# --- results that plot directly -------------------------------------------------------------------


def test_manifest_records_start_date_and_measures(studies: Path) -> None:
    man = json.loads((studies / "alt" / "manifest.json").read_text(encoding="utf-8"))
    assert man["start"] == "2025-01-01"
    rows = {m["id"]: m for m in man["measures"]}
    assert set(rows) == {"us_auto_tariff", "ca_counter", "bridge_slow"}
    t = rows["us_auto_tariff"]
    assert (t["start"], t["announce"], t["end"], t["start_day"]) == ("2025-01-15", "2025-01-08", None, 14)
    assert t["params"] == {"imposer": "US", "origin": "CA", "sectors": ["auto"], "rate": 0.25}
    assert rows["bridge_slow"]["end"] == "2025-02-10" and rows["bridge_slow"]["end_day"] == 40
    assert json.loads((studies / "base" / "manifest.json").read_text(encoding="utf-8"))["measures"] == []


def test_series_agree_with_the_engine_records(studies: Path) -> None:
    sc = sim.load_scenario(studies.parent / "alt.toml")
    res = sim.simulate(sc, seed=7, rep=1)
    s = res.series
    bys = res.backlog_by_sector
    for sector in ("auto", "farm", "energy"):
        np.testing.assert_allclose(s[f"backlog_usd|{sector}"], bys[sector], rtol=1e-6)
    # shortfall by sector (from the lost-margin ledger rows) adds up to the engine's lost sales
    short = s[[f"shortfall_usd|{x}" for x in ("auto", "farm", "energy")]].sum(axis=1)
    np.testing.assert_allclose(short, res.raw.lost_by_day, rtol=1e-5, atol=1e-3)
    # the burden split covers every ledger dollar of each country, every day
    led = res.ledger.groupby(["day", "country"], observed=True)["usd"].sum().unstack(fill_value=0.0)
    for c in ("US", "CA"):
        cols = [k for k in s.columns if k.startswith(f"burden_usd|{c}:")]
        np.testing.assert_allclose(s[cols].sum(axis=1)[led.index], led[c], rtol=1e-5, atol=1e-2)
    # plant output and downtime: the plants table's, plant by plant
    d = res.daily
    pl = res.plants
    cam = pl[pl.plant == "CA_TOY_CAM"].sort_values("day")
    np.testing.assert_allclose(s["plant_output|CA_TOY_CAM"], cam["produced"], rtol=1e-5)
    np.testing.assert_allclose(s["plant_downtime_h|CA_TOY_CAM"], cam["downtime_hours"], rtol=1e-5)
    # downtime hours x the plant's cost per hour = the ledger's downtime by country and sector
    net = sim.network_for(sc)
    cost = pl.assign(usd=pl["downtime_hours"] * pl["plant"].map(lambda p: net.site[p].downtime_usd_per_hour))
    total = s[[c for c in s.columns if c.startswith("downtime_usd|")]].sum(axis=1).sum()
    assert cost["usd"].sum() == pytest.approx(total, rel=1e-4, abs=1.0)
    # the crossing series are the daily table's
    p95 = d[(d.metric == "wait_p95_min") & (d.id == "X_AMB:sb")]["value"].to_numpy()
    np.testing.assert_allclose(s["wait_p95_min|X_AMB:sb"], p95, rtol=1e-6)


def test_quantiles_file_matches_the_replications(studies: Path) -> None:
    folder = studies / "alt"
    q = pd.read_parquet(folder / "quantiles.parquet")
    parts = [pd.read_parquet(folder / "parts" / f"series-rep{r:05d}.parquet") for r in range(3)]
    col = "backlog_usd|auto"
    cube = np.stack([p[col].to_numpy() for p in parts])
    got = q[(q.group == "backlog_usd") & (q.key == "auto")].sort_values("day")
    np.testing.assert_allclose(got["q50"], np.median(cube, axis=0), rtol=1e-5)
    np.testing.assert_allclose(got["q05"], np.quantile(cube, 0.05, axis=0), rtol=1e-5)
    np.testing.assert_allclose(got["mean"], cube.mean(axis=0), rtol=1e-5)


@given(
    reps=st.integers(1, 7),
    days=st.integers(1, 9),
    ncol=st.integers(1, 6),
    budget=st.integers(1, 2_000),
    threads=st.integers(1, 3),
    seed=st.integers(0, 2**31),
    nans=st.sampled_from(["none", "one", "column"]),
)
def test_quantiles_in_chunks_equal_numpy(
    reps: int, days: int, ncol: int, budget: int, threads: int, seed: int, nans: str
) -> None:
    """Held in memory or spilled in chunks, read by several threads: numpy's own quantiles, bit
    for bit, and the float64 mean over replications."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(reps, days, ncol)).astype(np.float32)
    data[:, :, -1] = np.round(data[:, :, -1])  # ties
    if nans == "one":
        data[0, 0, 0] = np.nan  # one missing value is skipped, not propagated
    elif nans == "column":
        data[:, :, 0] = np.nan  # a series missing in every replication stays NaN
    cols = [f"g|k{i}" for i in range(ncol)]
    out = series_quantiles(lambda r: data[r].T, range(reps), cols, np.arange(days), budget_bytes=budget, threads=threads)
    assert list(out.columns) == ["group", "key", "day", "mean", "q05", "q50", "q95"]
    assert len(out) == ncol * days
    want = np.full((3, days, ncol), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days
        for d in range(days):  # per series-day: numpy's nanquantile of a whole array takes the
            for i in range(ncol):  # dtype of its first slice's result, float32 if that is all NaN
                want[:, d, i] = np.nanquantile(data[:, d, i], [0.05, 0.5, 0.95])
        mean = np.nanmean(data, axis=0, dtype=np.float64)
    for i, c in enumerate(cols):
        got = out[out.key == c.split("|")[1]]
        np.testing.assert_array_equal(got["day"], np.arange(days))
        np.testing.assert_array_equal(got["mean"], mean[:, i])
        for k, lab in enumerate(["q05", "q50", "q95"]):
            np.testing.assert_array_equal(got[lab], want[k, :, i])


def test_quantiles_from_spilled_chunks_stay_within_the_budget() -> None:
    """400 replications of 40 series x 60 days are 3.84 MB of values; with a 400 kB budget they
    go to a temporary file, two series (2 x 2 x 96 kB) at a time come back, and the peak stays far
    below the 7.7 MB that holding them (and their transposed copy) in memory takes."""
    import tracemalloc

    data = np.random.default_rng(3).lognormal(size=(400, 40, 60)).astype(np.float32)
    cols = [f"g|k{i:02d}" for i in range(40)]
    whole = series_quantiles(lambda r: data[r], range(400), cols, np.arange(60))
    tracemalloc.start()
    try:
        chunked = series_quantiles(lambda r: data[r], range(400), cols, np.arange(60), budget_bytes=400_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert peak < 1_500_000, peak
    ranked = np.sort(data, axis=0).astype(np.float64)  # the median of 400: halfway, 200th to 201st
    np.testing.assert_allclose(whole["q50"], ((ranked[199] + ranked[200]) / 2).ravel(), rtol=1e-15)


def test_write_quantiles_reads_each_part_once_and_spills_alike(studies: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "alt"
    shutil.copytree(studies / "alt", folder)
    whole = pd.read_parquet(write_quantiles(folder, range(3)))
    opened: list[str] = []
    real = pq.ParquetFile

    def counting(path: Path, *a: object, **kw: object) -> object:
        opened.append(Path(path).name)
        return real(path, *a, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pq, "ParquetFile", counting)
        spilled = pd.read_parquet(write_quantiles(folder, range(3), budget_bytes=5_000))
    assert sorted(opened) == [f"series-rep{r:05d}.parquet" for r in range(3)]
    pd.testing.assert_frame_equal(spilled, whole, check_exact=True)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_write_quantiles_names_a_part_that_lacks_a_series(studies: Path, tmp_path: Path) -> None:
    folder = tmp_path / "alt"
    shutil.copytree(studies / "alt", folder)
    part = folder / "parts" / "series-rep00002.parquet"
    pd.read_parquet(part).drop(columns=["queue|X_AMB:sb"]).to_parquet(part)
    with pytest.raises(sim.ResultsFolderError, match=r"series-rep00002\.parquet lacks the series 'queue\|X_AMB:sb'"):
        write_quantiles(folder, range(3))


# --- figures ------------------------------------------------------------------------------------


def _labels(ax: object) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[attr-defined]


def _is_date_axis(ax: object, start: dt.date, days: int) -> bool:
    lo, hi = ax.get_xlim()  # type: ignore[attr-defined]
    return (
        isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)  # type: ignore[attr-defined]
        and mdates.num2date(lo).date() == start
        and mdates.num2date(hi).date() == start + dt.timedelta(days=days - 1)
    )


def test_backlog_figure_draws_one_band_per_sector_and_the_timeline(studies: Path) -> None:
    f = sim.Folder.open(studies / "alt")
    ax = sim.viz.backlog(f)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label().endswith("5–95 %")]
    medians = [ln for ln in ax.get_lines() if ln.get_label().endswith("median")]
    assert len(bands) == len(medians) == 3
    q = f.series("backlog_usd")
    auto = [ln for ln in medians if ln.get_label().startswith("auto")][0]
    np.testing.assert_allclose(auto.get_ydata(), q[q.key == "auto"].sort_values("day")["q50"])
    # the band spans q05..q95 of the data
    verts = bands[0].get_paths()[0].vertices[:, 1]
    assert verts.max() == pytest.approx(q[q.key == "auto"]["q95"].max())
    # three measures, three labelled bars; one announcement
    bars = sorted(p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("measure:"))
    assert bars == ["measure:bridge_slow", "measure:ca_counter", "measure:us_auto_tariff"]
    texts = {t.get_text() for t in ax.texts}
    assert {"bridge_slow", "ca_counter", "us_auto_tariff"} <= texts
    marks = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("announce:")]
    assert [m.get_gid() for m in marks] == ["announce:us_auto_tariff"]
    assert mdates.num2date(marks[0].get_xdata()[0]).date() == dt.date(2025, 1, 8)
    bar = [p for p in ax.patches if p.get_gid() == "measure:bridge_slow"][0]
    assert mdates.num2date(bar.get_x()).date() == dt.date(2025, 1, 20)
    assert mdates.num2date(bar.get_x() + bar.get_width()).date() == dt.date(2025, 2, 10)
    assert "US$" in ax.get_ylabel()
    assert _is_date_axis(ax, dt.date(2025, 1, 1), 60)
    # the data stay below the timeline band: every y tick is within the data's range
    assert max(ax.get_yticks()) <= q["q95"].max() * 1.2 + 1


def test_measures_with_same_dates_share_one_bar() -> None:
    m = pd.DataFrame(
        {
            "id": ["div_a", "div_b", "div_c", "x"],
            "kind": ["lane_open"] * 3 + ["tariff"],
            "start": [pd.Timestamp("2025-03-01")] * 4,
            "end": [pd.NaT] * 4,
            "announce": [pd.NaT] * 4,
        }
    )
    groups = timeseries.group_measures(m)
    assert [g["label"] for g in groups] == ["div_* (3 lane_open)", "x"]


def test_who_pays_matches_the_kpis(studies: Path) -> None:
    alt, base = sim.Folder.open(studies / "alt"), sim.Folder.open(studies / "base")
    table = sim.burden_table(alt, base)
    final = table[table.day == table.day.max()]
    ka, kb = alt.kpis, base.kpis
    for c in ("US", "CA"):
        priv = final[(final.country == c) & (final.part != "revenue")]["cumulative_usd"].sum()
        want = ka[f"cost_{c.lower()}_private_usd"].mean() - kb[f"cost_{c.lower()}_private_usd"].mean()
        assert priv == pytest.approx(want, rel=1e-4, abs=1.0)
        rev = final[(final.country == c) & (final.part == "revenue")]["cumulative_usd"].sum()
        assert -rev == pytest.approx(ka[f"duty_revenue_{c.lower()}_usd"].mean(), rel=1e-4, abs=1.0)
    duty = final[final.part == "duty"]["cumulative_usd"].sum()
    assert duty == pytest.approx(ka["duty_usd"].mean(), rel=1e-4)
    ax = sim.viz.who_pays(table)
    layers = {c.get_gid() for c in ax.collections if (c.get_gid() or "").startswith("burden:")}
    assert "burden:US:government:revenue" in layers and "burden:US:consumer:duty" in layers
    net = [ln for ln in ax.get_lines() if ln.get_label() == "net extra burden"][0]
    assert net.get_ydata()[-1] == pytest.approx(final["cumulative_usd"].sum(), rel=1e-6)
    assert "US$" in ax.get_ylabel() and _is_date_axis(ax, dt.date(2025, 1, 1), 60)
    share = sim.viz.burden_shares(table)
    us = final[(final.country == "US") & (final.part != "revenue")]["cumulative_usd"].sum()
    ca = final[(final.country == "CA") & (final.part != "revenue")]["cumulative_usd"].sum()
    assert share["us_share"].iloc[-1] == pytest.approx(us / (us + ca))
    ax2 = sim.viz.us_share(share)
    assert ax2.get_lines()[0].get_ydata()[-1] == pytest.approx(100 * us / (us + ca))
    assert "%" in ax2.get_ylabel()


def test_unpaired_folders_are_refused(studies: Path, tmp_path: Path) -> None:
    sim.run_batch(studies.parent / "base.toml", reps=2, seed=7, workers=1, out=tmp_path / "b2", quiet=True)
    with pytest.raises(sim.ResultsFolderError, match="not paired"):
        sim.burden_table(sim.Folder.open(studies / "alt"), sim.Folder.open(tmp_path / "b2"))


def test_a_single_run_draws_lines_without_bands(studies: Path, tmp_path: Path) -> None:
    assert main(["run", str(studies.parent / "alt.toml"), "--seed", "7", "--out", str(tmp_path / "one"), "--quiet"]) == 0
    ax = sim.viz.backlog(tmp_path / "one")
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert _labels(ax) == ["auto", "farm", "energy"]
    assert "1 replication" in ax.get_title(loc="left")


def test_crossing_and_plant_figures(studies: Path) -> None:
    f = sim.Folder.open(studies / "alt")
    ax = sim.viz.crossing_waits(f, crossings=["X_AMB:sb"])
    assert _labels(ax) == ["X_AMB southbound p50", "X_AMB southbound p95"]
    p95 = f.series("wait_p95_min")
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), p95[p95.key == "X_AMB:sb"].sort_values("day")["q50"])
    assert len(sim.viz.crossing_waits(f, top=3).get_lines()) == 6  # p50 and p95 of three
    assert "(min)" in ax.get_ylabel() and _is_date_axis(ax, dt.date(2025, 1, 1), 60)
    ax = sim.viz.crossing_load(f, crossings=["X_AMB:sb"])
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
    assert "vehicles per day" in ax.get_ylabel()
    cr = f.table("crossings")
    amb = cr[(cr.crossing == "X_AMB") & (cr.direction == "sb")]
    out, into = amb["diverted_out"].mean(), amb["diverted_in"].mean()
    assert out > 0  # the slowdown sent trucks to other crossings, and the legend says how many
    assert f"({out:,.0f} rerouted away, {into:,.0f} here, over the run)" in _labels(ax)[1]
    moved = f.series("diverted_out")
    assert moved[moved.key == "X_AMB:sb"]["mean"].sum() == pytest.approx(out, rel=1e-4)
    ax = sim.viz.plant_output(f, top=3)
    shown = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(shown) == 3
    base = timeseries.plant_base_output(f)
    q = f.series("plant_output")
    first = q[q.key == shown[0].get_label()].sort_values("day")
    np.testing.assert_allclose(shown[0].get_ydata(), 100 * first["q50"] / base[shown[0].get_label()])
    assert "%" in ax.get_ylabel() and _is_date_axis(ax, dt.date(2025, 1, 1), 60)
    ax = sim.viz.plant_downtime(f, top=2)
    q = f.series("plant_downtime_h")
    lost = q.groupby("key")["mean"].sum()
    lost = lost[lost > 0].sort_values(ascending=False)
    layers = [c.get_gid() for c in ax.collections if (c.get_gid() or "").startswith("downtime:")]
    want = [f"downtime:{k}" for k in lost.index[:2]] + ([f"downtime:{len(lost) - 2} other plants"] if len(lost) > 2 else [])
    assert layers == want
    assert "hours" in ax.get_ylabel()


def test_network_maps_draw_every_site_lane_and_crossing(studies: Path) -> None:
    a, b = sim.viz.network_maps(studies / "alt", studies / "base")
    net = sim.network_for(sim.load_scenario(studies.parent / "alt.toml"))
    site = {s.id: s for s in net.sites}
    overseas = {ln.id for ln in net.lanes if "OS" in (site[ln.origin].country, site[ln.dest].country)}
    for ax, folder in ((a, "base"), (b, "alt")):
        flows = sim.Folder.open(studies / folder).table("flows").groupby("lane", observed=True)["shipped_per_day"].mean()
        drawn = {ln.get_gid() for ln in ax.get_lines() if (ln.get_gid() or "").startswith("lane:")}
        assert drawn == {f"lane:{k}" for k, v in flows.items() if v > 0 and k not in overseas}
        cr = [c for c in ax.collections if c.get_gid() == "crossings"][0]
        assert len(cr.get_offsets()) == len(net.crossings)
        sites = sum(len(c.get_offsets()) for c in ax.collections if (c.get_gid() or "").startswith("sites:"))
        assert sites == len([s for s in net.sites if s.country != "OS"])
        assert "longitude" in ax.get_xlabel() and "latitude" in ax.get_ylabel()
    # the slowed bridge is slower in the scenario: its colour value is larger
    va = [c for c in b.collections if c.get_gid() == "crossings"][0].get_array()
    vb = [c for c in a.collections if c.get_gid() == "crossings"][0].get_array()
    i = [c.id for c in net.crossings].index("X_AMB")
    assert va[i] > vb[i]


def test_kpi_compare_sweep_and_sensitivity_figures(studies: Path) -> None:
    f = sim.Folder.open(studies / "alt")
    ax = sim.viz.kpi_distribution(f.kpis, "cost_total_usd")
    assert sum(p.get_height() for p in ax.patches if p.get_gid() == "hist") == 3  # replications
    assert "US$" in ax.get_xlabel()
    table = pd.read_parquet(studies / "compare.parquet")
    ax = sim.viz.compare_deltas(table, kpis=["backlog_peak", "cost_total_usd", "fill_rate"])
    assert list(ax.get_yticks()) == sorted(ax.get_yticks(), reverse=True)  # first KPI on top
    top_down = [t.get_text() for t in ax.get_yticklabels()]
    wanted = table[table.kpi.isin(["backlog_peak", "cost_total_usd", "fill_rate"]) & (table.base_mean != 0)]
    order = list(wanted["kpi"])
    assert top_down == [sim.viz.stats.kpi_label(k) for k in order]
    row = table[table.kpi == "cost_total_usd"].iloc[0]
    dot = ax.get_lines()[0].get_xdata()[top_down.index("total cost (US$)")]
    assert dot == pytest.approx(100 * row["delta_mean"] / row["base_mean"])
    assert "%" in ax.get_xlabel()
    sweep = pd.DataFrame(
        [
            {"point": i * 2 + j, "a.rate": r, "b.f": g, "kpi": "cost_total_usd", "n": 3, "mean": 10.0 * i + j}
            for i, r in enumerate((0.1, 0.2, 0.3))
            for j, g in enumerate((1.0, 2.0))
        ]
    )
    fig = Figure()
    ax = sim.viz.sweep_heatmap(sweep, "cost_total_usd", fig.add_subplot())
    assert len(ax.texts) == 6 and ax.get_ylabel() == "a.rate" and ax.get_xlabel() == "b.f"
    assert ax.images[0].get_array()[2, 1] == 21.0
    tor = pd.DataFrame({"parameter": ["p", "q", "r"], "low": [1.0, 0.0, 4.0], "high": [2.0, 10.0, 5.0]})
    ax = sim.viz.tornado(tor, base=3.0, unit="US$")
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "q"  # widest on top
    sob = pd.DataFrame({"parameter": ["p", "q"], "S1": [0.2, 0.5], "ST": [0.3, 0.6], "S1_conf": [0.01, 0.02], "ST_conf": [0.02, 0.03]})
    ax = sim.viz.sobol_bars(sob)
    assert len(ax.patches) == 4 and [t.get_text() for t in ax.get_xticklabels()] == ["q", "p"]


# --- commands -----------------------------------------------------------------------------------


def test_plot_command_writes_the_figures(studies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(studies), "--format", "svg"]) == 0
    names = {Path(p).name for p in capsys.readouterr().out.split()}
    assert names == {f"{n}.svg" for n in ("backlog", "who_pays", "crossings", "plants", "map", "kpis", "compare")}
    assert "<svg" in (studies / "backlog.svg").read_text(encoding="utf-8")[:500]
    assert main(["plot", str(studies / "alt")]) == 0
    assert (studies / "alt" / "backlog.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_folders_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing")]) == 2


def test_report_is_self_contained(studies: Path) -> None:
    out = sim.viz.report([studies, studies / "base"], studies.parent / "r.html")
    page = out.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert page.count("<img ") == page.count('src="data:image/png;base64,') == 7 + 5
    for mid in ("us_auto_tariff", "bridge_slow", "2025-01-08", "95 % CI", "manifest.json", "backlog peak (US$)"):
        assert mid in page


# --- the report in a real browser, and the example notebook ---------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str | None:
    import shutil

    return next((p for b in BROWSERS if (p := shutil.which(b))), None)


@pytest.mark.skipif(_browser() is None, reason="no Chromium installed (CI installs it)")
def test_report_loads_in_a_headless_browser(studies: Path, tmp_path: Path) -> None:
    """Chromium opens the report from disk with the network cut off: every image decodes (the
    page's script records it in the DOM) and the console logs nothing."""
    import re
    import subprocess

    page = sim.viz.report([studies], tmp_path / "report.html")
    cmd = [
        str(_browser()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: a fetch would fail and log
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'<body data-images="(\d+)/(\d+)"', proc.stdout)
    assert m is not None, "the page's load script did not run"
    assert int(m.group(2)) == 7 and m.group(1) == m.group(2)
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == []
    failed = [ln for ln in proc.stderr.splitlines() if "net::ERR" in ln or "Failed to load resource" in ln]
    assert failed == []


def test_the_broken_page_check_catches_a_broken_image(tmp_path: Path) -> None:
    """The browser check above can fail: a page with an undecodable image and a script error."""
    import re
    import subprocess

    if _browser() is None:
        pytest.skip("no Chromium installed (CI installs it)")
    page = tmp_path / "bad.html"
    from sim.viz.output import SCRIPT

    page.write_text(f'<html><head><script>{SCRIPT}</script></head><body><img src="data:image/png;base64,AAAA"><script>nothere();</script></body></html>', encoding="utf-8")
    cmd = [str(_browser()), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<body data-images="(\d+)/(\d+)"', proc.stdout)
    assert m is not None and m.groups() == ("0", "1")
    assert any(":CONSOLE" in ln and "nothere" in ln for ln in proc.stderr.splitlines())


def test_example_notebook_runs(studies: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every code cell of experiments/example.ipynb runs, in order, on a compare folder."""
    import matplotlib

    matplotlib.use("Agg")
    nb = json.loads((Path(__file__).resolve().parents[1] / "experiments" / "example.ipynb").read_text(encoding="utf-8"))
    monkeypatch.setenv("BORDERFLOW_RESULTS", str(studies))
    namespace: dict[str, object] = {}
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 3
    for i, cell in enumerate(code):
        exec(compile("".join(cell["source"]), f"example.ipynb cell {i}", "exec"), namespace)
    import matplotlib.pyplot as plt

    figs = [plt.figure(n) for n in plt.get_fignums()]
    assert len(figs) == 2  # the two figures the notebook promises
    assert namespace["alt"].scenario == "pressure"  # type: ignore[attr-defined]
    plt.close("all")
