"""Every number bounded, every file read strictly: out-of-range cells, options and keys exit 2.

Each case asserts the exit status, the message (file, row or key, rule) and that no traceback is
printed. The ranges come from the declarations that drive validation (``_SPECS`` in
``sim.io.network``, ``LIMITS`` in ``sim.batch``, ``TOP_RANGES`` in ``sim.io.scenario_check``); the
network README's tables must show the same ranges.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

import sim.io.network as nw
from sim.batch import LIMITS
from sim.cli import main
from sim.io.scenario_check import TOP_RANGES
from sim.io.scenario_toml import MARKET_KEYS
from sim.spec.scenario import Market
from tests.test_validate_cli import TINY, cell

ROOT = Path(__file__).resolve().parents[1]
HEAD = f'name = "case"\nnetwork = "{TINY.as_posix()}"\nhorizon_days = 10\n'


def _ranged() -> list[tuple[str, str, nw._Range]]:
    return [
        (f, c.name, c.parse)
        for f, (_, cols) in nw._SPECS.items()
        for c in cols
        if isinstance(c.parse, nw._Range)
    ]


def test_network_readme_shows_every_declared_range() -> None:
    text = (ROOT / "networks" / "README.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"## (\w+\.csv)\n(.*?)(?=\n## |\Z)", text, flags=re.S))
    for f, name, rng in _ranged():
        rows = [
            ln
            for ln in sections[f].splitlines()
            if ln.startswith("|") and f"`{name}`" in ln.split("|")[1]
        ]
        assert rows, (f, name)
        assert rng.doc in rows[0].split("|")[2], (f, name, rng.doc, rows[0])


def _ensure_column(d: Path, fname: str, col: str) -> None:
    """Optional files and columns the tiny network leaves out: add them, valid, before the cell."""
    path = d / fname
    if not path.exists() and fname == "corridors.csv":  # a row to hold the cell under test
        path.write_text("crossing,alternative,detour_hours,toll_usd\nambassador,ambassador,1,0\n",
                        encoding="utf-8")  # fmt: skip
    if not path.exists():  # stock.csv: one explicit level for the first market's first good
        site, com = (TINY / "demand.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[:2]
        path.write_text(f"site,commodity,S,s\n{site},{com},100,\n", encoding="utf-8")
    rows = [ln.split(",") for ln in path.read_text(encoding="utf-8").splitlines()]
    if col not in rows[0]:  # an optional column: blank takes its default
        path.write_text("\n".join(",".join([*r, col if k == 0 else ""]) for k, r in
                                  enumerate(rows)) + "\n", encoding="utf-8")  # fmt: skip


# a row of networks/tiny that has each column filled (s_days/S_days: the sS site)
_ROW = {("sites.csv", "s_days"): 5, ("sites.csv", "S_days"): 5}


def _bad_values(rng: nw._Range) -> list[str]:
    above = f"{rng.hi * 10 if rng.hi > 0 else rng.hi + 1:g}"
    below = f"{rng.lo - 1:g}" if not rng.strict else f"{rng.lo:g}"
    return [above, below, "inf", "nan", "1e400", "12abc"]


CELL_CASES = [
    (f, name, v, rng) for f, name, rng in _ranged() for v in _bad_values(rng)
]  # fmt: skip


@pytest.mark.parametrize(
    ("fname", "col", "value", "rng"),
    CELL_CASES,
    ids=[f"{f}:{c}={v}" for f, c, v, _ in CELL_CASES],
)
def test_out_of_range_network_cell(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fname: str,
    col: str,
    value: str,
    rng: nw._Range,
) -> None:
    d = tmp_path / "tiny"
    shutil.copytree(TINY, d)
    _ensure_column(d, fname, col)
    row = _ROW.get((fname, col), 2)
    cell(fname, row, col, value)(d)
    assert main(["validate", str(d)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    want = f"tiny/{fname}: row {row}, column '{col}': {col} must be a {rng.doc}"
    assert any(ln.startswith(want) for ln in out.splitlines()), out


# --- the CSV structure: strict reading --------------------------------------------------------

_LANES = (TINY / "lanes.csv").read_text(encoding="utf-8")
_L = _LANES.splitlines()

STRUCTURE_CASES = [
    ("unclosed-quote", "\n".join([*_L[:3], '"' + _L[3], *_L[4:]]) + "\n", "row 4",
     "a quote opened here is never closed"),
    ("ragged-short-row", "\n".join([*_L[:2], _L[2].rsplit(",", 2)[0], *_L[3:]]) + "\n", "row 3",
     "row has 10 cells but the header has 12"),
    ("stray-delimiter", "\n".join([*_L[:4], _L[4].replace(",", ",,", 1), *_L[5:]]) + "\n", "row 5",
     "row has 13 cells but the header has 12"),
    ("trailing-comma", "\n".join([*_L[:5], _L[5] + ",", *_L[6:]]) + "\n", "row 6",
     "row has 13 cells but the header has 12"),
    ("nul-byte", "\n".join([*_L[:2], _L[2].replace("truck", "tr\x00uck"), *_L[3:]]) + "\n",
     "row 3", "column 'mode'"),
    ("text-after-closing-quote", "\n".join([*_L[:2], _L[2].replace("illustrative", '"ab"c'),
     *_L[3:]]) + "\n", "row 3", "malformed CSV from line 3"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "where", "rule"), [c[1:] for c in STRUCTURE_CASES], ids=[c[0] for c in STRUCTURE_CASES]
)
def test_malformed_csv_names_file_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, rule: str
) -> None:
    d = tmp_path / "tiny"
    shutil.copytree(TINY, d)
    (d / "lanes.csv").write_text(text, encoding="utf-8", newline="")
    assert main(["validate", str(d)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert any(ln.startswith(f"tiny/lanes.csv: {where}") and rule in ln for ln in out.splitlines())


def _reorder(text: str) -> str:
    rows = [ln.split(",") for ln in text.splitlines()]
    return "\n".join(",".join(r[::-1]) for r in rows) + "\n"


GOOD_CASES = [
    ("bom", lambda t: "\ufeff" + t),
    ("crlf", lambda t: t.replace("\n", "\r\n")),
    ("cr-only", lambda t: t.replace("\n", "\r")),
    ("reordered-columns", _reorder),
    ("blank-line", lambda t: t + "\n,,,,,,,,,,,\n"),
]


@pytest.mark.parametrize("edit", [c[1] for c in GOOD_CASES], ids=[c[0] for c in GOOD_CASES])
def test_spreadsheet_variants_still_load(tmp_path: Path, edit: object) -> None:
    d = tmp_path / "tiny"
    shutil.copytree(TINY, d)
    for f in d.glob("*.csv"):
        text = f.read_text(encoding="utf-8")
        f.write_text(edit(text), encoding="utf-8", newline="")  # type: ignore[operator]
    net, ref = nw.load_network(d), nw.load_network(TINY)
    assert [ln.id for ln in net.lanes] == [ln.id for ln in ref.lanes]
    assert net.lanes == ref.lanes and net.sites == ref.sites


# --- command-line options ----------------------------------------------------------------------

OPTION_CASES = [
    (cmd, opt, v)
    for cmd in ("run", "compare", "sweep")
    for opt, lo, hi in (("--reps", *LIMITS["reps"]), ("--seed", *LIMITS["seed"]),
                        ("--days", *LIMITS["days"]), ("--workers", *LIMITS["workers"]))
    for v in (str(lo - 1), str(hi + 1), "1.5", "abc")
]  # fmt: skip


@pytest.mark.parametrize(("cmd", "opt", "value"), OPTION_CASES)
def test_out_of_range_option(
    capsys: pytest.CaptureFixture[str], cmd: str, opt: str, value: str
) -> None:
    pos = {"run": ["baseline"], "compare": ["baseline", "baseline"], "sweep": ["baseline"]}[cmd]
    extra = ["--set", "horizon_days=5"] if cmd == "sweep" else []
    assert main([cmd, *pos, *extra, opt, value]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lo, hi = LIMITS[opt[2:]]
    assert f"argument {opt}: must be an integer in {lo}..{hi:,}" in err


def test_largest_seed_runs_and_is_recorded(tmp_path: Path, tiny: Path) -> None:
    seed = LIMITS["seed"][1]
    out = tmp_path / "r"
    assert main(["run", str(tiny), "--seed", str(seed), "--days", "5", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    import pandas as pd

    assert int(pd.read_parquet(out / "kpis.parquet")["seed"].iloc[0]) == seed


def test_batch_api_refuses_out_of_range_arguments() -> None:
    from sim.batch import BatchError, run_batch

    with pytest.raises(BatchError, match=r"days must be an integer in 1..36,500 \(got 40000\)"):
        run_batch("baseline", reps=1, days=40000)
    with pytest.raises(BatchError, match=r"seed must be an integer in 0..9,223"):
        run_batch("baseline", reps=1, seed=2**64)


def test_a_batch_larger_than_memory_is_refused_with_the_estimate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny: Path
) -> None:
    monkeypatch.setenv("BORDERFLOW_MEMORY_BYTES", str(2**26))
    assert main(["run", str(tiny), "--days", "36500", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"1 replication of 36500 days at once needs about 0\.\d GiB", err), err
    assert "0.1 GiB is available: use fewer --days or --workers" in err


def test_memory_estimate_matches_a_measured_run() -> None:
    """The estimate covers the daily arrays and tables a run holds (checked on the tables' size)."""
    import sim
    from sim.batch.simulate import BASE_BYTES, memory_estimate, network_for
    from sim.io.scenario import load_scenario

    sc = load_scenario("baseline")
    res = sim.simulate(sc, seed=1, days=60)
    held = sum(int(getattr(res, t).memory_usage(deep=True).sum()) for t in ("daily", "ledger"))
    arrays = (getattr(res.raw, f) for f in type(res.raw).__dataclass_fields__)
    held += sum(a.nbytes for a in arrays if hasattr(a, "nbytes"))
    est = memory_estimate(network_for(sc), 60) - BASE_BYTES
    assert held < est < 4 * held


# --- scenario keys ----------------------------------------------------------------------------

SCENARIO_CASES = [
    ("start-before-calendar", 'start = 1899-12-31\n', "key 'start': must be a date in 1900-01-01..2199-12-31"),
    ("start-year-1", 'start = 0001-01-01\n', "key 'start': must be a date in 1900-01-01..2199-12-31"),
    ("start-after-calendar", 'start = 2300-01-01\n', "key 'start': must be a date in 1900-01-01..2199-12-31"),
    ("horizon-past-calendar", 'start = 2199-12-25\n', "key 'horizon_days': must end by 2199-12-31"),
    ("horizon-huge", 'horizon_days = 99999999\n', "key 'horizon_days': must be an integer in 1..36500"),
    ("horizon-float", 'horizon_days = 10.5\n', "key 'horizon_days': must be an integer in 1..36500"),
    ("deep-array", "x = " + "[" * 5000 + "]" * 5000 + "\n", "TOML values nested too deeply"),
    ("deep-table", "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "TOML values nested too deeply"),
    *((f"{k}-above", f"[{k.split('.')[0]}]\n{k.split('.')[1]} = {hi * 2 + 1:g}\n",
       f"key '{k}': must be in {lo:g}..{hi:g}")
      for k, (lo, hi) in TOP_RANGES.items() if k != "market.elasticity"),
    *((f"{k}-inf", f"[{k.split('.')[0]}]\n{k.split('.')[1]} = inf\n", f"key '{k}': must be a number")
      for k in TOP_RANGES if k != "market.elasticity"),
    ("elasticity-below", "[market]\nelasticity = { auto = -11.0 }\n",
     "key 'market.elasticity.auto': elasticity must be in -10..0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expect"), [c[1:] for c in SCENARIO_CASES], ids=[c[0] for c in SCENARIO_CASES]
)
def test_out_of_range_scenario_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expect: str
) -> None:
    text = HEAD.replace("horizon_days = 10\n", "") if "horizon_days" in body else HEAD
    p = tmp_path / "case.toml"
    p.write_text(body + text if not body.startswith("[") else text + body, encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert f"{p}: " in out and expect in out, out


def test_long_extends_chain_is_refused_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s0.toml").write_text(HEAD, encoding="utf-8")
    for i in range(1, 40):
        (tmp_path / f"s{i}.toml").write_text(f'extends = "s{i - 1}.toml"\n', encoding="utf-8")
    assert main(["validate", str(tmp_path / "s39.toml")]) == 2
    out = capsys.readouterr().out
    assert "key 'extends': extends chain longer than 16 files" in out
    # a chain within the limit loads
    assert main(["validate", str(tmp_path / "s15.toml")]) == 0


def test_non_finite_kpis_raise_like_a_broken_mass_balance(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny: Path
) -> None:
    import sim.batch.simulate as simulate_mod
    from sim.analysis.metrics import kpis as real_kpis
    from sim.errors import NonFiniteError

    def broken(meta: dict[str, object], raw: dict[str, object]) -> dict[str, object]:
        out = real_kpis(meta, raw)  # type: ignore[arg-type]
        out["cost_total_usd"] = float("inf")
        out["fill_rate"] = float("nan")
        return out

    monkeypatch.setattr(simulate_mod, "_kpis", broken)
    with pytest.raises(NonFiniteError, match=r"fill_rate = nan, cost_total_usd = inf"):
        simulate_mod.simulate(str(tiny), days=5)
    assert main(["run", str(tiny), "--days", "5"]) == 2
    assert "KPIs are not finite" in capsys.readouterr().err


@pytest.mark.parametrize("key", [k for k in MARKET_KEYS if k not in ("pass_through", "elasticity")])
def test_every_market_number_has_a_range_and_its_default_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """Each numeric [market] key is declared in TOP_RANGES; its default loads; a key the
    scenario file cannot set is an unknown key, not an internal error."""
    assert f"market.{key}" in TOP_RANGES
    default = getattr(Market(), key)
    value = next(iter(default.values())) if isinstance(default, Mapping) else default
    p = tmp_path / "m.toml"
    p.write_text(HEAD + f"[market]\n{key} = {value}\n", encoding="utf-8")
    assert main(["validate", str(p)]) == 0, capsys.readouterr().out


def test_an_internal_market_field_is_an_unknown_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "m.toml"
    p.write_text(HEAD + "[market]\npass_through_by = 1\n", encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    out, err = capsys.readouterr()
    assert "key 'market.pass_through_by': unknown market parameter" in out + err
    assert "Traceback" not in out + err
