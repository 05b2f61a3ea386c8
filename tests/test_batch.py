"""Monte Carlo batches (sim.batch) and their statistics (sim.summary)."""

from __future__ import annotations

import io
import json
import math
import sys
import weakref
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
import sim.batch.engines as engines_mod
from sim import load_scenario, simulate
from sim.analysis.result import Result
from sim.analysis.statistics import paired_deltas, summarize, t_quantile
from sim.batch import BatchError, compare, run_batch, sweep
from sim.io import results_folder as store
from sim.spec.scenario import Measure, Scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "networks" / "tiny"


def _no_wall(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"]).reset_index(drop=True)


# --- statistics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452), (99, 1.9842)],
)
def test_t_quantile_matches_the_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_limits_and_symmetry() -> None:
    assert t_quantile(0.975, math.inf) == pytest.approx(1.95996, abs=1e-5)
    assert t_quantile(0.975, 1e7) == pytest.approx(1.95996, abs=1e-5)
    assert t_quantile(0.995, 5) == pytest.approx(4.0321, abs=1e-4)
    assert t_quantile(0.025, 9) == pytest.approx(-2.2622, abs=1e-4)
    assert t_quantile(0.5, 3) == 0.0
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)


def test_summarize_against_hand_computation() -> None:
    kp = pd.DataFrame(
        {"rep": range(5), "x": [1.0, 2.0, 3.0, 4.0, 5.0], "zero": [-1.0, 1.0, 0.0, 0.0, 0.0]}
    )
    s = summarize(kp).set_index("kpi")
    assert list(s.index) == ["x", "zero"]  # the rep column is an identifier, not a KPI
    x = s.loc["x"]
    assert x["n"] == 5
    assert x["mean"] == 3.0
    assert x["std"] == pytest.approx(1.5811, abs=1e-4)
    assert x["half_width"] == pytest.approx(1.9632, abs=1e-4)  # 2.7764 * 1.5811 / sqrt(5)
    assert x["ci_low"] == pytest.approx(3 - 1.9632, abs=1e-4)
    assert x["ci_high"] == pytest.approx(3 + 1.9632, abs=1e-4)
    assert x["rel_half_width"] == pytest.approx(1.9632 / 3, abs=1e-4)
    assert math.isnan(s.loc["zero", "rel_half_width"])  # mean 0
    one = summarize(kp.head(1)).set_index("kpi").loc["x"]
    assert one["n"] == 1 and one["mean"] == 1.0 and math.isnan(one["std"])


def test_paired_deltas_against_hand_computation() -> None:
    base = pd.DataFrame({"rep": [0, 1, 2], "seed": 0, "x": [1.0, 2.0, 3.0]})
    alt = pd.DataFrame({"rep": [2, 0, 1], "seed": 0, "x": [5.0, 2.0, 4.0]})  # matched by rep
    row = paired_deltas(base, alt).set_index("kpi").loc["x"]
    # differences 1, 2, 2: mean 5/3, std sqrt(1/3); t(0.975, 2) = 4.3027
    assert row["delta_mean"] == pytest.approx(5 / 3)
    assert row["half_width"] == pytest.approx(4.302653 * math.sqrt(1 / 3) / math.sqrt(3))
    # unpaired: s_a^2 = 1, s_b^2 = 7/3 -> var 10/9; paired var (1/3)/3 = 1/9 -> ratio 10
    assert row["variance_reduction"] == pytest.approx(10.0)
    assert row["unpaired_half_width"] > row["half_width"]


# --- execution ---------------------------------------------------------------------------------


def test_kpis_identical_serially_and_on_a_two_worker_pool(tiny: Path) -> None:
    serial = run_batch(tiny, reps=6, seed=11, workers=1)
    pool = run_batch(tiny, reps=6, seed=11, workers=2)
    assert (serial.mode, pool.mode, pool.workers) == ("serial", "pool", 2)
    assert list(pool.kpis["rep"]) == list(range(6))
    assert_frame_equal(_no_wall(serial.kpis), _no_wall(pool.kpis), check_exact=True)
    # replication i of the batch is simulate(seed, rep=i), wherever it runs
    direct = pd.DataFrame([simulate(load_scenario(tiny), seed=11, rep=4).kpis])
    assert_frame_equal(_no_wall(direct), _no_wall(serial.kpis.iloc[[4]]), check_exact=True)
    other = run_batch(tiny, reps=2, seed=12, workers=1)
    assert other.kpis["cost_total_usd"].iloc[0] != serial.kpis["cost_total_usd"].iloc[0]


def test_kpis_identical_on_a_dask_local_cluster(tiny: Path) -> None:
    pytest.importorskip("distributed")
    serial = run_batch(tiny, reps=4, seed=5, days=40, workers=1)
    dask = run_batch(tiny, reps=4, seed=5, days=40, scheduler="local", workers=2)
    assert dask.mode == "dask" and dask.workers == 2
    assert_frame_equal(_no_wall(serial.kpis), _no_wall(dask.kpis), check_exact=True)


def test_bad_arguments_raise_batch_errors(tiny: Path) -> None:
    for kw in (
        {"reps": 0},
        {"reps": 2, "seed": -1},
        {"reps": 2, "days": 0},
        {"reps": 2, "workers": 0},
    ):
        with pytest.raises(BatchError):
            run_batch(tiny, **kw)  # type: ignore[arg-type]


def test_results_folder_layout_and_combined_tables(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    b = run_batch(tiny, reps=3, seed=1, days=20, workers=1, out=out)
    kp = pd.read_parquet(out / "kpis.parquet")
    assert list(kp["rep"]) == [0, 1, 2]
    assert_frame_equal(kp, b.kpis, check_exact=True)
    for table in ("kpis", *store.PART_TABLES):
        assert sorted(p.name for p in (out / "parts").glob(f"{table}-rep*.parquet")) == [
            f"{table}-rep{r:05d}.parquet" for r in range(3)
        ]
    daily = pd.read_parquet(out / "daily.parquet")
    parts = pd.read_parquet(sorted((out / "parts").glob("daily-rep*.parquet")))
    assert_frame_equal(daily, parts)
    assert sorted(daily["rep"].unique()) == [0, 1, 2]
    assert set(pd.read_parquet(out / "ledger.parquet")["rep"]) == {0, 1, 2}
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] is True
    assert (man["seed"], man["n_reps"], man["days"]) == (1, 3, 20)
    assert man["execution"]["mode"] == "serial"
    assert man["scenario"]["sha256"] == store.scenario_snapshot(load_scenario(tiny))["sha256"]
    assert len(man["timings"]["wall_s"]) == 3
    summ = pd.read_parquet(out / "summary.parquet")
    assert "cost_total_usd" in set(summ["kpi"])
    assert (out / "summary.csv").exists()


def test_large_batches_keep_tables_in_parts_only(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "big"
    run_batch(tiny, reps=store.COMBINE_MAX_REPS + 1, seed=0, days=3, workers=1, out=out)
    assert (out / "kpis.parquet").exists()
    assert not (out / "daily.parquet").exists()
    assert len(list((out / "parts").glob("daily-rep*.parquet"))) == store.COMBINE_MAX_REPS + 1


def test_serial_batch_holds_one_result_at_a_time(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive: list[weakref.ref[Result]] = []
    peak = 0

    def tracking(*args: Any, **kwargs: Any) -> Result:
        nonlocal peak
        peak = max(peak, sum(r() is not None for r in alive))
        res = simulate(*args, **kwargs)
        alive.append(weakref.ref(res))
        return res

    monkeypatch.setattr(engines_mod, "simulate", tracking)  # the serial engine calls simulate
    b = run_batch(tiny, reps=6, seed=0, days=20, workers=1, out=tmp_path / "m")
    assert len(alive) == 6
    assert peak <= 1  # the previous replication's Result (tables) is gone before the next
    assert sum(r() is not None for r in alive) == 0
    assert not any(isinstance(v, Result) for v in vars(b).values())
    assert isinstance(b.kpis, pd.DataFrame) and len(b.kpis) == 6


def _spy_on_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every file written through ``store.write_atomic``, in order."""
    written: list[str] = []
    real = store.write_atomic

    def spy(path: Path, data: bytes) -> None:
        written.append(path.name)
        real(path, data)

    monkeypatch.setattr(store, "write_atomic", spy)
    return written


def test_each_replication_is_written_with_kpis_last(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _spy_on_writes(monkeypatch)
    run_batch(tiny, reps=3, seed=0, days=10, workers=1, out=tmp_path / "w")
    parts = [n for n in written if "-rep" in n]
    # replication by replication, each one's kpis part after its four tables and their checksums
    expected = [
        f"{t}-rep{r:05d}.{'json' if t == 'sha256' else 'parquet'}"
        for r in range(3)
        for t in (*store.PART_TABLES, "sha256", "kpis")
    ]
    assert parts == expected


def test_pool_keeps_at_most_twice_the_workers_in_flight(tiny: Path, tmp_path: Path) -> None:
    b = run_batch(tiny, reps=12, seed=0, days=10, workers=2, out=tmp_path / "p")
    assert 2 <= b.peak_in_flight <= 4
    man = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert man["execution"]["peak_in_flight"] == b.peak_in_flight
    assert man["execution"]["context"] in ("fork", "forkserver", "spawn")


def test_resume_runs_only_missing_replications(tiny: Path, tmp_path: Path) -> None:
    ref = run_batch(tiny, reps=5, seed=4, days=20, workers=1, out=tmp_path / "ref")
    out = tmp_path / "cut"
    run_batch(tiny, reps=5, seed=4, days=20, workers=1, out=out)
    for t in ("kpis", "daily"):
        store.part_path(out, t, 1).unlink()
    store.part_path(out, "kpis", 3).unlink()
    (out / "parts" / ".kpis-rep00004.parquet.1234.tmp").write_bytes(b"half a file")
    with pytest.raises(store.ResultsFolderError, match="--resume"):
        run_batch(tiny, reps=5, seed=4, days=20, workers=1, out=out)
    again = run_batch(tiny, reps=5, seed=4, days=20, workers=2, out=out, resume=True)
    assert again.ran == 2
    assert not list((out / "parts").glob(".*.tmp"))
    assert_frame_equal(_no_wall(again.kpis), _no_wall(ref.kpis), check_exact=True)
    assert_frame_equal(
        _no_wall(pd.read_parquet(out / "kpis.parquet")),
        _no_wall(pd.read_parquet(tmp_path / "ref" / "kpis.parquet")),
        check_exact=True,
    )
    assert_frame_equal(
        pd.read_parquet(out / "daily.parquet"), pd.read_parquet(tmp_path / "ref" / "daily.parquet")
    )
    # extending the batch reuses every finished replication
    more = run_batch(tiny, reps=7, seed=4, days=20, workers=1, out=out, resume=True)
    assert more.ran == 2 and list(more.kpis["rep"]) == list(range(7))


def test_folder_of_another_batch_is_refused(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    run_batch(tiny, reps=2, seed=1, days=10, workers=1, out=out)
    with pytest.raises(store.ResultsFolderError, match=f"{out}.*seed 1.*seed 2"):
        run_batch(tiny, reps=2, seed=2, days=10, workers=1, out=out, resume=True)
    with pytest.raises(store.ResultsFolderError, match="days 10.*days 11"):
        run_batch(tiny, reps=2, seed=1, days=11, workers=1, out=out, resume=True)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(store.ResultsFolderError, match="no readable manifest"):
        run_batch(tiny, reps=1, seed=1, days=10, workers=1, out=junk)


def test_progress_bar_only_on_a_terminal(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_batch(tiny, reps=2, seed=0, days=5, workers=1)  # stderr captured: not a TTY
    err = capsys.readouterr().err  # log lines, no bar
    assert err.startswith("tiny: 1/2 replications (50%)") and "\r" not in err

    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run_batch(tiny, reps=2, seed=0, days=5, workers=1, quiet=True)
    assert tty.getvalue() == ""
    run_batch(tiny, reps=2, seed=0, days=5, workers=1)
    assert "2/2" in tty.getvalue() and "rep" in tty.getvalue()


def test_compare_with_common_random_numbers(tiny: Path, tmp_path: Path) -> None:
    alt = tmp_path / "alt.toml"
    alt.write_text(
        f'name = "tiny_alt"\nnetwork = "{TINY}"\nhorizon_days = 60\n[costs]\ntruck_hour_usd = 200.0\n',
        encoding="utf-8",
    )
    same = compare(tiny, tiny, reps=4, seed=3, days=30, workers=1).set_index("kpi")
    assert (same["delta_mean"].dropna() == 0.0).all()
    assert (same["half_width"].dropna() == 0.0).all()
    t = compare(tiny, alt, reps=6, seed=3, days=30, workers=1, out=tmp_path / "c").set_index("kpi")
    row = t.loc["cost_total_usd"]
    assert row["delta_mean"] > 0  # dearer truck hours
    assert row["variance_reduction"] > 1
    assert row["half_width"] < row["unpaired_half_width"]
    assert (tmp_path / "c" / "base" / "kpis.parquet").exists()
    assert (tmp_path / "c" / "alt" / "kpis.parquet").exists()
    assert len(pd.read_parquet(tmp_path / "c" / "compare.parquet")) == len(t)


def _overrides_supported() -> bool:
    import inspect

    return "overrides" in inspect.signature(load_scenario).parameters


@pytest.mark.skipif(
    not _overrides_supported(), reason="sim.scenario.load_scenario has no overrides= argument yet"
)
def test_sweep_grid_is_tidy(tiny: Path, tmp_path: Path) -> None:
    grid: dict[str, list[object]] = {
        "horizon_days": [10, 20],
        "costs.truck_hour_usd": [50.0, 150.0],
    }
    table = sweep(tiny, grid, reps=3, seed=0, workers=1, out=tmp_path / "s")
    kpis = table["kpi"].unique()
    assert len(table) == 4 * len(kpis)
    assert list(table.columns[:3]) == ["point", "horizon_days", "costs.truck_hour_usd"]
    assert {"kpi", "mean", "ci_low", "ci_high"} <= set(table.columns)
    pts = table[["horizon_days", "costs.truck_hour_usd"]].drop_duplicates()
    assert sorted(map(tuple, pts.to_numpy().tolist())) == [
        (10, 50.0),
        (10, 150.0),
        (20, 50.0),
        (20, 150.0),
    ]
    cost = table[table["kpi"] == "cost_total_usd"].set_index(
        ["horizon_days", "costs.truck_hour_usd"]
    )
    assert cost.loc[(20, 50.0), "mean"] > cost.loc[(10, 50.0), "mean"]  # longer horizon, more cost
    days = table[table["kpi"] == "cost_total_usd"]
    assert len(days) == 4
    assert len([p for p in (tmp_path / "s").iterdir() if p.is_dir()]) == 4
    assert_frame_equal(pd.read_parquet(tmp_path / "s" / "sweep.parquet"), table)


def test_public_api() -> None:
    assert sim.__all__ == sorted(sim.__all__)
    for name in ("run_batch", "simulate", "load_scenario"):
        assert name in sim.__all__ and callable(getattr(sim, name))


def test_paired_deltas_use_the_same_finite_pairs_for_every_statistic() -> None:
    nan = math.nan
    base = pd.DataFrame({"rep": [0, 1, 2, 3, 4], "x": [1.0, 2.0, nan, 3.0, 100.0]})
    alt = pd.DataFrame({"rep": [0, 1, 2, 3, 4], "x": [2.0, 4.0, 7.0, 5.0, math.inf]})
    row = paired_deltas(base, alt).set_index("kpi").loc["x"]
    # only reps 0, 1, 3 have both values finite: base 1, 2, 3; alt 2, 4, 5; deltas 1, 2, 2
    assert row["n"] == 3
    assert row["base_mean"] == pytest.approx(2.0)
    assert row["alt_mean"] == pytest.approx(11 / 3)
    assert row["delta_mean"] == pytest.approx(5 / 3)
    assert row["delta_mean"] == pytest.approx(row["alt_mean"] - row["base_mean"])
    assert row["half_width"] == pytest.approx(4.302653 * math.sqrt(1 / 3) / math.sqrt(3))
    # unpaired: s_b^2 = 1, s_a^2 = 7/3 over the same 3 pairs -> var 10/9; paired 1/9 -> ratio 10
    assert row["variance_reduction"] == pytest.approx(10.0)
    none = paired_deltas(
        pd.DataFrame({"rep": [0, 1], "x": [nan, 1.0]}),
        pd.DataFrame({"rep": [0, 1], "x": [1.0, nan]}),
    ).iloc[0]
    # no common pair: each side keeps its own mean, the delta is undefined
    assert none["n"] == 0 and none["base_mean"] == 1.0 and none["alt_mean"] == 1.0
    assert math.isnan(none["delta_mean"])


def test_store_has_one_atomic_write_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not hasattr(store, "write_run")  # unused: batches write their folders in sim.runner
    written = _spy_on_writes(monkeypatch)
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    store.write_parquet(df, tmp_path / "t.parquet")
    assert written == ["t.parquet"]
    assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    assert list(tmp_path.iterdir()) == [tmp_path / "t.parquet"]  # no temporary file left


def test_scenario_spelling_does_not_change_the_batch_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    spellings = ["baseline", "experiments/scenarios/baseline.toml"]
    spellings.append(str(ROOT / "experiments" / "scenarios" / ".." / "scenarios" / "baseline.toml"))
    hashes = {store.spec_hash(load_scenario(s)) for s in spellings}
    assert len(hashes) == 1
    out = tmp_path / "b"
    run_batch("baseline", reps=1, seed=0, days=3, workers=1, out=out)
    more = run_batch(spellings[1], reps=2, seed=0, days=3, workers=1, out=out, resume=True)
    assert more.ran == 1


def _edit_manifest(folder: Path, **identity: Any) -> None:
    """Pretend another version of the code started the batch in ``folder``."""
    path = folder / "manifest.json"
    man = json.loads(path.read_text())
    man["identity"].update(identity)
    if "borderflow" in identity:
        man["versions"]["borderflow"] = identity["borderflow"]
    if "git_revision" in identity:
        man["git_revision"] = identity["git_revision"]
        man["git_revisions"] = [identity["git_revision"]]
    path.write_text(json.dumps(man))


def test_resume_refuses_another_borderflow_version(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "v"
    run_batch(tiny, reps=1, seed=0, days=5, workers=1, out=out)
    man = json.loads((out / "manifest.json").read_text())
    assert man["identity"]["borderflow"] == store.versions()["borderflow"]
    assert man["identity"]["git_revision"] == store.git_revision()
    _edit_manifest(out, borderflow="0.0.1")
    with pytest.raises(store.ResultsFolderError, match=r"borderflow 0\.0\.1.*borderflow"):
        run_batch(tiny, reps=2, seed=0, days=5, workers=1, out=out, resume=True)
    assert store.finished_reps(out) == {0}  # nothing written


def test_resume_warns_when_only_the_git_revision_differs(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g"
    run_batch(tiny, reps=1, seed=0, days=5, workers=1, out=out)
    capsys.readouterr()
    _edit_manifest(out, git_revision="0123456789abcdef")
    more = run_batch(tiny, reps=2, seed=0, days=5, workers=1, out=out, resume=True)
    assert more.ran == 1
    err = capsys.readouterr().err
    assert "warning" in err and "git revision" in err and "0123456789ab" in err
    man = json.loads((out / "manifest.json").read_text())
    assert man["git_revisions"] == ["0123456789abcdef", store.git_revision()]
    run_batch(tiny, reps=2, seed=0, days=5, workers=1, out=out, resume=True)
    assert capsys.readouterr().err == ""  # this revision is now the folder's


def test_growing_past_the_combine_limit_removes_stale_combined_tables(
    tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "grow"
    run_batch(tiny, reps=2, seed=0, days=3, workers=1, out=out)
    assert all((out / f"{t}.parquet").exists() for t in store.PART_TABLES)
    run_batch(
        tiny, reps=store.COMBINE_MAX_REPS + 1, seed=0, days=3, workers=1, out=out, resume=True
    )
    for t in store.PART_TABLES:
        assert not (out / f"{t}.parquet").exists()
    man = json.loads((out / "manifest.json").read_text())
    assert not set(man["tables"]) & {f"{t}.parquet" for t in store.PART_TABLES}
    assert len(pd.read_parquet(out / "kpis.parquet")) == store.COMBINE_MAX_REPS + 1


def test_a_quantiles_batch_keeps_only_what_quantiles_and_figures_read(
    tiny: Path, tmp_path: Path
) -> None:
    full, lean = tmp_path / "full", tmp_path / "lean"
    a = run_batch(tiny, reps=3, seed=2, days=20, workers=1, out=full)
    b = run_batch(tiny, reps=3, seed=2, days=20, workers=2, out=lean, keep="quantiles")
    assert_frame_equal(_no_wall(a.kpis), _no_wall(b.kpis), check_exact=True)
    names = {p.name.split("-rep")[0] for p in (lean / "parts").iterdir()}
    assert names == {"kpis", "sha256", "series", "crossings", "flows"}
    for t in ("daily", "ledger", "plants"):
        assert not (lean / f"{t}.parquet").exists()
    for t in ("quantiles", "series", "crossings", "flows", "kpis"):
        x, y = pd.read_parquet(full / f"{t}.parquet"), pd.read_parquet(lean / f"{t}.parquet")
        if t == "kpis":
            x, y = _no_wall(x), _no_wall(y)
        assert_frame_equal(x, y, check_exact=True)
    man = json.loads((lean / "manifest.json").read_text())
    assert man["keep"] == "quantiles" and man["identity"]["keep"] == "quantiles"
    assert man["tables"] == [
        "kpis.parquet", "summary.parquet", "summary.csv", "quantiles.parquet",
        "crossings.parquet", "flows.parquet", "series.parquet",
    ]  # fmt: skip
    assert "keep" not in json.loads((full / "manifest.json").read_text())["identity"]


def test_a_quantiles_batch_resumes_and_checks_only_its_own_parts(
    tiny: Path, tmp_path: Path
) -> None:
    ref = run_batch(tiny, reps=4, seed=5, days=20, workers=1, out=tmp_path / "ref", keep="quantiles")
    out = tmp_path / "cut"
    run_batch(tiny, reps=4, seed=5, days=20, workers=1, out=out, keep="quantiles")
    store.part_path(out, "kpis", 1).unlink()  # unfinished
    store.part_path(out, "series", 2).write_bytes(b"PAR1 torn")  # corrupt: run again
    with pytest.raises(store.ResultsFolderError, match="keeps 'quantiles'.*keeps 'all'"):
        run_batch(tiny, reps=4, seed=5, days=20, workers=1, out=out, resume=True)
    again = run_batch(
        tiny, reps=4, seed=5, days=20, workers=1, out=out, resume=True, keep="quantiles"
    )
    assert again.ran == 2  # replications 1 and 2; the others lack no part they should have
    assert_frame_equal(_no_wall(again.kpis), _no_wall(ref.kpis), check_exact=True)
    assert_frame_equal(
        pd.read_parquet(out / "quantiles.parquet"),
        pd.read_parquet(tmp_path / "ref" / "quantiles.parquet"),
        check_exact=True,
    )
    with pytest.raises(BatchError, match="keep must be one of all, quantiles"):
        run_batch(tiny, reps=1, seed=5, days=20, workers=1, keep="series")


def test_run_rep_sends_back_the_tables_asked_for(tiny: Path) -> None:
    sc = load_scenario(tiny)
    assert engines_mod.run_rep(sc, 1, 0, 5, False).parts is None
    every = engines_mod.run_rep(sc, 1, 0, 5, True).parts
    assert every is not None and tuple(every) == store.PART_TABLES
    some = engines_mod.run_rep(sc, 1, 0, 5, ("series", "flows")).parts
    assert some is not None and list(some) == ["series", "flows"]
    assert some["series"] == every["series"]
    assert pd.read_parquet(io.BytesIO(some["flows"]))["rep"].tolist() == [0] * len(
        pd.read_parquet(io.BytesIO(some["flows"]))
    )


def test_manifest_lists_every_key_a_measure_sets() -> None:
    """A measure's row lists each key that differs from its default, remission included."""
    m = Measure(id="t", kind="tariff", start=3, imposer="US", rate=0.25, remission_share=0.6,
                announce=1, commodities=("parts",))  # fmt: skip
    (row,) = store.measure_records(Scenario("s", measures=(m,)))
    assert row["params"] == {
        "imposer": "US", "rate": 0.25, "commodities": ["parts"], "remission_share": 0.6,
    }  # fmt: skip
    assert (row["start_day"], row["announce_day"], row["end_day"]) == (3, 1, None)
