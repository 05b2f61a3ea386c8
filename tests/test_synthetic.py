"""Synthetic networks: any size validates, the same seed writes the same bytes, and they run."""

from __future__ import annotations

import csv
import gc
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_network, run_batch, simulate, write_synthetic_network
from sim.cli import main

FILES = ("commodities.csv", "sites.csv", "crossings.csv", "lanes.csv", "boms.csv", "demand.csv")


def _scenario(folder: Path, days: int = 30) -> Path:
    p = folder.parent / f"{folder.name}.toml"
    p.write_text(f'name = "synthetic"\nnetwork = "{folder}"\nhorizon_days = {days}\n')
    return p


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(2, 400),
    seed=st.integers(0, 2**32 - 1),
    depth=st.integers(1, 3),
    share=st.floats(0.0, 1.0),
    mix=st.sampled_from([None, {"auto": 1.0}, {"farm": 1.0}, {"energy": 2.0, "farm": 1.0}]),
)
def test_any_size_and_seed_validates_with_exactly_n_sites(
    tmp_path: Path, n: int, seed: int, depth: int, share: float, mix: dict[str, float] | None
) -> None:
    folder = write_synthetic_network(
        tmp_path / f"n{n}s{seed}", n, seed=seed, sector_mix=mix, bom_depth=depth,
        cross_border_share=share,
    )  # fmt: skip
    net = load_network(folder)  # raises NetworkError listing every problem
    assert len(net.sites) == n
    for ln in net.lanes:  # a lane crosses exactly when its ends are in different countries
        a, b = net.site[ln.origin].country, net.site[ln.dest].country
        assert (ln.crossing is not None) == (a != b)
    for s in net.sites:  # the indexed bill of materials is the scan of boms.csv, in file order
        scan = {b.input: b.qty_per_unit for b in net.boms if b.plant == s.id}
        assert list(net.bom(s.id).items()) == list(scan.items())
    for x in net.crossings:
        for d in ("sb", "nb"):
            cap = x.capacity(d)
            assert cap is not None and cap > 0


def test_same_seed_same_bytes_other_seed_other_network(tmp_path: Path) -> None:
    a = write_synthetic_network(tmp_path / "a", 300, seed=7)
    b = write_synthetic_network(tmp_path / "b", 300, seed=7)
    c = write_synthetic_network(tmp_path / "c", 300, seed=8)
    for f in FILES:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "lanes.csv").read_bytes() != (c / "lanes.csv").read_bytes()


def test_cross_border_share_and_sector_mix(tmp_path: Path) -> None:
    folder = write_synthetic_network(tmp_path / "big", 3000, seed=3, cross_border_share=0.3)
    with open(folder / "lanes.csv", encoding="utf-8") as f:
        lanes = list(csv.DictReader(f))
    share = sum(1 for ln in lanes if ln["crossing"]) / len(lanes)
    # each lane crosses independently with p = 0.3: the standard error at ~2,600 lanes is ~0.009
    assert 0.26 < share < 0.34, share
    with open(folder / "sites.csv", encoding="utf-8") as f:
        sites = list(csv.DictReader(f))
    assert {s["kind"] for s in sites} == {"source", "plant", "storage", "market"}
    assert {s["sector"] for s in sites} == {"auto", "farm", "energy"}
    none = write_synthetic_network(tmp_path / "none", 500, seed=3, cross_border_share=0.0)
    assert not any(ln.crossing for ln in load_network(none).lanes)


def test_bom_plants_take_two_or_three_inputs(tmp_path: Path) -> None:
    net = load_network(write_synthetic_network(tmp_path / "b", 600, seed=5, sector_mix={"auto": 1}))
    inputs: dict[str, int] = {}
    for b in net.boms:
        inputs[b.plant] = inputs.get(b.plant, 0) + 1
    plants = [s.id for s in net.sites if s.kind == "plant" and s.capacity != 0]
    assert plants and all(inputs[p] in (2, 3) for p in plants)


def test_runs_30_days_with_mass_balance_and_high_fill_rate(tmp_path: Path) -> None:
    folder = write_synthetic_network(tmp_path / "run", 400, seed=11)
    res = simulate(_scenario(folder), seed=1, days=30)
    assert res.kpis["mass_balance_error"] < 1e-9
    # spare capacity of 25-30 % everywhere and stock to cover transit: demand is met
    assert res.kpis["fill_rate"] > 0.95
    assert res.kpis["exports_ca_us_usd"] > 0


@pytest.mark.parametrize(
    "kw",
    [{"n_sites": 1}, {"n_sites": 10, "bom_depth": 0}, {"n_sites": 10, "cross_border_share": 1.5},
     {"n_sites": 10, "sector_mix": {"steel": 1.0}}, {"n_sites": 10, "sector_mix": {"auto": 0}}],
)  # fmt: skip
def test_bad_arguments_raise(tmp_path: Path, kw: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=list(kw)[-1]):
        write_synthetic_network(tmp_path / "x", **kw)  # type: ignore[arg-type]


def test_serial_batch_memory_does_not_grow_with_replications(tmp_path: Path) -> None:
    """Each replication is freed when its results are taken, without waiting for the cyclic GC."""
    sc = _scenario(write_synthetic_network(tmp_path / "mem", 60, seed=2), days=90)
    run_batch(sc, reps=1, seed=0, workers=1, quiet=True)  # warm caches (network, imports)

    def peak(reps: int) -> int:
        gc.collect()
        gc.disable()  # as if the collector never got round to it
        tracemalloc.start()
        try:
            run_batch(sc, reps=reps, seed=0, workers=1, quiet=True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            gc.enable()

    one, five = peak(1), peak(5)
    assert five < 1.3 * one, (one, five)


def test_cli_synth_writes_a_folder_validate_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert main(["synth", "250", str(out), "--seed", "4", "--bom-depth", "1"]) == 0
    assert "250 sites" in capsys.readouterr().out
    assert main(["validate", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "ok"
    same = write_synthetic_network(tmp_path / "api", 250, seed=4, bom_depth=1)
    assert (out / "lanes.csv").read_bytes() == (same / "lanes.csv").read_bytes()


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--mix", "steel=1"], "sector_mix"), (["--mix", "auto"], "--mix must look like"),
     (["--cross-border-share", "2"], "cross_border_share")],
)  # fmt: skip
def test_cli_synth_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["synth", "20", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
