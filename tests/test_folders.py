"""Results folders: compare and sweep folders guarded like run folders, corrupt parts recomputed on
resume, ``--overwrite`` only for folders Borderflow wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from tests.test_validate_cli import TINY

BASE = f'name = "tiny"\nnetwork = "{TINY.as_posix()}"\nhorizon_days = 20\n'


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two scenario files on networks/tiny (the second with dearer trucks), a third different one."""
    a, b, c = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "c.toml"
    a.write_text(BASE, encoding="utf-8")
    b.write_text(BASE.replace('"tiny"', '"tiny_b"') + "[costs]\ntruck_hour_usd = 200.0\n")
    c.write_text(BASE.replace('"tiny"', '"tiny_c"') + "[costs]\ntruck_hour_usd = 5.0\n")
    return a, b, c


def _no_timing(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"])


def test_corrupt_or_missing_parts_are_recomputed_on_resume(
    tmp_path: Path, two: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a = two[0]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    args = ["run", str(a), "--reps", "4", "--seed", "3", "--workers", "1", "--quiet"]
    assert main([*args, "--out", str(whole)]) == 0
    assert main([*args, "--out", str(broken)]) == 0
    parts = broken / "parts"
    (parts / "daily-rep00001.parquet").write_bytes(b"PAR1 not really parquet")  # garbage
    (parts / "ledger-rep00002.parquet").unlink()  # missing
    flows = parts / "flows-rep00003.parquet"  # one flipped byte in the middle: checksum catches it
    data = bytearray(flows.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flows.write_bytes(bytes(data))
    (broken / "manifest.json").write_text(
        (broken / "manifest.json").read_text().replace('"complete": true', '"complete": false')
    )
    capsys.readouterr()
    assert main([*args[:-1], "--out", str(broken), "--resume"]) == 0
    err = capsys.readouterr().err
    for rep, part in ((1, "daily"), (2, "ledger"), (3, "flows")):
        assert (
            f"replication {rep}: part {part} missing or corrupt in {broken}; running it again"
            in err
        )
    assert "replication 0" not in err
    for table in ("kpis", "daily", "ledger", "flows", "crossings"):
        x, y = (
            pd.read_parquet(whole / f"{table}.parquet"),
            pd.read_parquet(broken / f"{table}.parquet"),
        )
        if table == "kpis":
            x, y = _no_timing(x), _no_timing(y)
        pd.testing.assert_frame_equal(x, y)
    assert json.loads((broken / "manifest.json").read_text())["complete"] is True


def _cmp(base: Path, alt: Path, out: Path, *extra: str) -> list[str]:
    return ["compare", str(base), str(alt), "--reps", "2", "--workers", "1", "--out", str(out),
            "--quiet", *extra]  # fmt: skip


def _sweep(sc: Path, out: Path, grid: str, *extra: str) -> list[str]:
    return ["sweep", str(sc), "--set", grid, "--reps", "2", "--workers", "1", "--out", str(out),
            "--quiet", *extra]  # fmt: skip


def test_compare_folder_has_a_manifest_and_is_guarded(
    tmp_path: Path, two: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, c = two
    out = tmp_path / "cmp"
    assert main(_cmp(a, b, out)) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "compare" and man["complete"] is True
    assert man["identity"]["base"] == "tiny" and man["identity"]["alt"] == "tiny_b"
    first = pd.read_parquet(out / "compare.parquet")
    cases = [
        (_cmp(a, b, out), "already holds a complete compare of the same scenarios: pass --resume"),
        (_cmp(a, c, out), "holds another compare: alt tiny_b (this run: tiny_c)"),
        (_cmp(a, b, out, "--seed", "9"), "holds another compare: seed 0 (this run: 9)"),
        (_cmp(a, b, out, "--days", "10"), "holds another compare: days None (this run: 10)"),
        (_sweep(a, out, "horizon_days=10,15"), "holds a compare, not a sweep"),
        (_cmp(a, b, out, "--resume", "--overwrite"), "--resume and --overwrite exclude each other"),
    ]
    for argv, expect in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and expect in err and "Traceback" not in err, err
    assert main(_cmp(a, b, out, "--resume")) == 0  # nothing to run: the same table
    pd.testing.assert_frame_equal(pd.read_parquet(out / "compare.parquet"), first)
    assert main(_cmp(a, c, out, "--overwrite")) == 0
    assert json.loads((out / "manifest.json").read_text())["identity"]["alt"] == "tiny_c"


def test_sweep_folder_has_a_manifest_and_is_guarded(
    tmp_path: Path, two: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, _ = two
    out = tmp_path / "sw"
    assert main(_sweep(a, out, "costs.truck_hour_usd=50,100")) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "sweep" and man["complete"] is True
    assert man["identity"]["grid"] == {"costs.truck_hour_usd": ["50", "100"]}
    cases = [
        (_sweep(a, out, "costs.truck_hour_usd=50,100"), "already holds a complete sweep"),
        (_sweep(a, out, "costs.truck_hour_usd=50,200"), "holds another sweep: grid"),
        (_sweep(b, out, "costs.truck_hour_usd=50,100"), "holds another sweep: scenario tiny"),
        (_cmp(a, b, out), "holds a sweep, not a compare"),
    ]
    for argv, expect in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expect in err and "Traceback" not in err, err
    # an interrupted sweep: one point's folder lost; --resume reruns only what is missing
    table = pd.read_parquet(out / "sweep.parquet").query("kpi != 'wall_s'")
    point = sorted(p for p in out.iterdir() if p.is_dir())[1]
    for p in sorted(point.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    point.rmdir()
    assert main(_sweep(a, out, "costs.truck_hour_usd=50,100", "--resume")) == 0
    again = pd.read_parquet(out / "sweep.parquet").query("kpi != 'wall_s'")
    pd.testing.assert_frame_equal(again, table)


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        (lambda d: (d / "notes.txt").write_text("mine"), "holds no Borderflow manifest.json"),
        (lambda d: (d / "manifest.json").write_text('{"kind": "other"}'), "holds no Borderflow"),
        (lambda d: (d / "manifest.json").write_text("not json"), "holds no Borderflow"),
    ],
    ids=["foreign-file", "foreign-manifest", "broken-manifest"],
)
def test_overwrite_deletes_only_folders_borderflow_wrote(
    tmp_path: Path,
    two: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
    setup: object,
    expect: str,
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    setup(out)  # type: ignore[operator]
    before = sorted(p.name for p in out.iterdir())
    argv = ["run", str(two[0]), "--out", str(out), "--overwrite", "--quiet"]
    assert main(argv) == 2
    assert expect in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before


def test_overwrite_replaces_a_run_folder(tmp_path: Path, two: tuple[Path, Path, Path]) -> None:
    out = tmp_path / "r"
    assert main(["run", str(two[0]), "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(two[1]), "--out", str(out), "--quiet"]) == 2  # another scenario
    assert main(["run", str(two[1]), "--out", str(out), "--overwrite", "--quiet"]) == 0
    assert pd.read_parquet(out / "kpis.parquet")["scenario"].tolist() == ["tiny_b"]
