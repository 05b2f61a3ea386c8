"""``borderflow run --reps``, ``compare`` and ``sweep``: results folders, resume, refusals, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

from sim.batch import run_batch
from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "networks" / "tiny"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_single_rep_run_keeps_its_results_folder(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "one"
    code, stdout, err = _run(
        ["run", str(tiny), "--seed", "2", "--days", "30", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert "scenario tiny  seed 2  rep 0  days 30" in stdout  # the one-replication summary
    for name in ("kpis", "daily", "ledger", "crossings", "flows", "plants"):
        assert (out / f"{name}.parquet").exists()
    man = json.loads((out / "manifest.json").read_text())
    assert man["seeds"] == [2] and man["reps"] == [0] and man["days"] == 30
    assert man["scenario"]["name"] == "tiny" and man["complete"] is True
    kp = pd.read_parquet(out / "kpis.parquet")
    assert len(kp) == 1 and kp["seed"].iloc[0] == 2


def test_multi_rep_run_without_out_prints_the_summary_only(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, err = _run(
        ["run", str(tiny), "--reps", "4", "--days", "20", "--workers", "1"], capsys
    )
    assert code == 0, err
    for kpi in ("backlog_peak", "backlog_days", "fill_rate", "cost_total_usd", "duty_usd"):
        assert kpi in stdout
    assert "reps 4" in stdout and "4 replications in" in stdout
    assert list(tmp_path.iterdir()) == []
    # no progress bar: stderr is not a terminal, so a log line per tenth of the batch
    assert [ln.split(" in ")[0] for ln in err.splitlines()] == [
        f"tiny: {i}/4 replications ({i / 4:.0%})" for i in range(1, 5)
    ]


def test_multi_rep_run_writes_summary_files(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    code, _, err = _run(
        [
            "run",
            str(tiny),
            "--reps",
            "3",
            "--days",
            "10",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    summ = pd.read_csv(out / "summary.csv")
    assert set(summ["kpi"]) >= {"cost_total_usd", "fill_rate"}
    assert summ.set_index("kpi").loc["cost_total_usd", "n"] == 3
    assert json.loads((out / "manifest.json").read_text())["execution"]["mode"] == "pool"


def test_killed_batch_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "sim.cli", "run", "baseline", "--reps", "8", "--seed", "3"]
    argv += ["--days", "60", "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if len(list((out / "parts").glob("kpis-rep*.parquet"))) >= 2:
                break
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] is False
    done = sorted((out / "parts").glob("kpis-rep*.parquet"))
    assert 2 <= len(done) < 8
    for p in done:  # finished parts are whole Parquet files
        rep = int(p.name[8:13])
        assert pd.read_parquet(p)["rep"].tolist() == [rep]
        for table in ("daily", "ledger", "crossings", "flows"):
            assert len(pd.read_parquet(out / "parts" / f"{table}-rep{rep:05d}.parquet")) > 0
    # a torn temporary file must not count as a finished replication
    (out / "parts" / ".kpis-rep00007.parquet.424242.tmp").write_bytes(b"PAR1 torn")
    again = subprocess.run(
        [*argv, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    ref = run_batch("baseline", reps=8, seed=3, days=60, workers=1, out=tmp_path / "ref")
    got = pd.read_parquet(out / "kpis.parquet")
    assert list(got["rep"]) == list(range(8))
    assert_frame_equal(
        got.drop(columns="wall_s"), ref.kpis.drop(columns="wall_s"), check_exact=True
    )
    for table in ("daily", "ledger"):  # pyarrow compares big tables fast, and exactly
        got_t = pq.read_table(out / f"{table}.parquet")
        assert got_t.num_rows > 0
        assert got_t.equals(pq.read_table(tmp_path / "ref" / f"{table}.parquet"))
    assert json.loads((out / "manifest.json").read_text())["complete"] is True
    assert not list((out / "parts").glob(".*.tmp"))


def test_mismatched_results_folders_are_refused(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "res"
    base = ["run", str(tiny), "--reps", "2", "--days", "10", "--workers", "1", "--quiet"]
    assert _run([*base, "--seed", "1", "--out", str(out)], capsys)[0] == 0
    before = sorted(p.name for p in (out / "parts").iterdir())
    code, _, err = _run([*base, "--seed", "2", "--out", str(out), "--resume"], capsys)
    assert code == 2
    assert str(out) in err and "seed 1" in err and "seed 2" in err and "Traceback" not in err
    code, _, err = _run(
        [
            "run",
            "baseline",
            "--reps",
            "2",
            "--days",
            "10",
            "--seed",
            "1",
            "--out",
            str(out),
            "--resume",
        ],
        capsys,
    )
    assert code == 2
    assert str(out) in err and "scenario tiny" in err and "scenario baseline" in err
    code, _, err = _run(
        [*base, "--seed", "1", "--out", str(out)], capsys
    )  # same batch, no --resume
    assert code == 2 and str(out) in err and "--resume" in err
    assert sorted(p.name for p in (out / "parts").iterdir()) == before  # nothing touched
    code, _, err = _run([*base, "--seed", "1", "--out", str(out), "--resume"], capsys)
    assert code == 0, err


def test_edited_scenario_file_is_refused_on_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = tmp_path / "edit.toml"
    sc.write_text(f'name = "edit"\nnetwork = "{TINY}"\n', encoding="utf-8")
    out = tmp_path / "e"
    args = [
        "run",
        str(sc),
        "--reps",
        "2",
        "--days",
        "5",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert _run(args, capsys)[0] == 0
    sc.write_text(
        f'name = "edit"\nnetwork = "{TINY}"\n[costs]\ntruck_hour_usd = 1.0\n', encoding="utf-8"
    )
    code, _, err = _run([*args, "--resume"], capsys)
    assert code == 2 and str(out) in err and "scenario_sha256" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "baseline", "--reps", "0"], "--reps"),
        (["run", "baseline", "--reps", "two"], "--reps"),
        (["run", "baseline", "--workers", "0"], "--workers"),
        (["run", "baseline", "--seed", "-1"], "--seed"),
        (["run", "baseline", "--days", "0"], "--days"),
        (["run", "baseline", "--workers", "2", "--scheduler", "local"], "not allowed"),
        (["run", "baseline", "--reps", "2", "--resume"], "--resume needs --out"),
        (["run", "no_such_scenario", "--reps", "2"], "no such file or built-in scenario"),
        (["compare", "baseline", "no_such_scenario", "--reps", "2"], "no such file"),
        (["sweep", "baseline", "--reps", "2"], "--set"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert message in err + out
    assert "Traceback" not in err + out


def test_compare_cli_prints_paired_deltas_and_writes_tables(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alt = tmp_path / "alt.toml"
    alt.write_text(
        f'name = "tiny_alt"\nnetwork = "{TINY}"\n[costs]\ntruck_hour_usd = 200.0\n',
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    code, stdout, err = _run(
        [
            "compare",
            str(tiny),
            str(alt),
            "--reps",
            "4",
            "--days",
            "20",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    assert "tiny_alt - tiny" in stdout and "cost_total_usd" in stdout
    assert "variance reduction from common random numbers, cost_total_usd" in stdout
    table = pd.read_parquet(out / "compare.parquet").set_index("kpi")
    assert table.loc["cost_total_usd", "variance_reduction"] > 1
    base = pd.read_parquet(out / "base" / "kpis.parquet")
    alt_k = pd.read_parquet(out / "alt" / "kpis.parquet")
    assert list(base["seed"]) == list(alt_k["seed"]) and list(base["rep"]) == list(alt_k["rep"])


def test_sweep_cli(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import inspect

    from sim import load_scenario

    if "overrides" not in inspect.signature(load_scenario).parameters:
        pytest.skip("sim.scenario.load_scenario has no overrides= argument yet")
    out = tmp_path / "sw"
    argv = [
        "sweep",
        str(tiny),
        "--set",
        "horizon_days=10,20",
        "--set",
        "costs.truck_hour_usd=50,150",
    ]
    code, stdout, err = _run([*argv, "--reps", "2", "--workers", "1", "--out", str(out)], capsys)
    assert code == 0, err
    assert "sweep of 4 points" in stdout and "costs.truck_hour_usd" in stdout
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 4 * table["kpi"].nunique()
    assert {"horizon_days", "costs.truck_hour_usd", "kpi", "mean", "ci_low", "ci_high"} <= set(
        table.columns
    )
    code, _, err = _run(
        ["sweep", str(tiny), "--set", "costs.no_such_cost=1,2", "--reps", "2"], capsys
    )
    assert code == 2 and "Traceback" not in err


def test_a_batch_resumes_whichever_way_its_scenario_is_spelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "spelled"
    opts = ["--days", "3", "--workers", "1", "--out", str(out), "--quiet"]
    code, _, err = _run(["run", "baseline", "--reps", "1", *opts], capsys)
    assert code == 0, err
    path = "experiments/scenarios/baseline.toml"
    code, _, err = _run(["run", path, "--reps", "2", *opts, "--resume"], capsys)
    assert code == 0, err
    code, _, err = _run(["run", "baseline", "--reps", "3", *opts, "--resume"], capsys)
    assert code == 0, err
    assert err == ""
    assert list(pd.read_parquet(out / "kpis.parquet")["rep"]) == [0, 1, 2]


def test_keep_quantiles_on_the_command_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lean"
    argv = ["run", str(tiny), "--reps", "2", "--days", "10", "--workers", "1", "--out", str(out)]
    code, _, err = _run([*argv, "--keep", "quantiles", "--quiet"], capsys)
    assert code == 0, err
    assert (out / "quantiles.parquet").exists() and not list((out / "parts").glob("daily-*"))
    code, _, err = _run([*argv, "--resume", "--quiet"], capsys)  # kept 'all' by default
    assert code == 2 and "--keep quantiles" in err and "Traceback" not in err
    code, _, err = _run([*argv, "--keep", "everything"], capsys)
    assert code == 2 and "invalid choice: 'everything'" in err
    cmp = tmp_path / "cmp"
    code, _, err = _run(
        ["compare", str(tiny), str(tiny), "--reps", "2", "--days", "10", "--workers", "1",
         "--out", str(cmp), "--keep", "quantiles", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    for sub in ("base", "alt"):
        assert json.loads((cmp / sub / "manifest.json").read_text())["keep"] == "quantiles"
        assert not list((cmp / sub / "parts").glob("ledger-*"))
