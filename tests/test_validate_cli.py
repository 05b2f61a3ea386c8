"""``borderflow validate`` on broken copies of ``networks/tiny``: exit 2, each problem located."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"
Mutation = Callable[[Path], None]


def _read(d: Path, f: str) -> list[list[str]]:
    with open(d / f, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(d: Path, f: str, rows: list[list[str]]) -> None:
    with open(d / f, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def cell(f: str, row: int, col: str, value: str) -> Mutation:
    """Set one cell; ``row`` counts the header as row 1, as a spreadsheet shows it."""

    def m(d: Path) -> None:
        rows = _read(d, f)
        rows[row - 1][rows[0].index(col)] = value
        _write(d, f, rows)

    return m


def rename_col(f: str, old: str, new: str | None) -> Mutation:
    """Rename a column, or drop it (header and cells) when ``new`` is None."""

    def m(d: Path) -> None:
        rows = _read(d, f)
        i = rows[0].index(old)
        for r in rows:
            if new is None:
                del r[i]
        if new is not None:
            rows[0][i] = new
        _write(d, f, rows)

    return m


def copy_row(f: str, row: int) -> Mutation:
    def m(d: Path) -> None:
        rows = _read(d, f)
        _write(d, f, [*rows, rows[row - 1]])

    return m


def drop_row(f: str, row: int) -> Mutation:
    def m(d: Path) -> None:
        rows = _read(d, f)
        del rows[row - 1]
        _write(d, f, rows)

    return m


def add_row(f: str, line: str) -> Mutation:
    def m(d: Path) -> None:
        with open(d / f, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    return m


def raw(f: str, data: bytes) -> Mutation:
    def m(d: Path) -> None:
        (d / f).write_bytes(data)

    return m


def delete(f: str) -> Mutation:
    return lambda d: (d / f).unlink()


def as_dir(f: str) -> Mutation:
    def m(d: Path) -> None:
        (d / f).unlink()
        (d / f).mkdir()

    return m


def both(*ms: Mutation) -> Mutation:
    def m(d: Path) -> None:
        for x in ms:
            x(d)

    return m


# Rows of networks/tiny (header = row 1). lanes: 2 parts_sb (CA->US, truck, ambassador),
# 3 vehicles_us, 4 vehicles_nb, 5 crude_sb (pipeline, line5), 6 crude_us, 7 crude_west,
# 8 crude_asia (ship), 9 food_nb, 10 power_sb (wire). sites: 2 ca_parts, 3 us_assembly, 4 ca_crude,
# 5 us_tankfarm (sS), 6 ca_port, 7 us_farm, 8 ca_hydro, 9 us_market, 10 ca_market, 11 os_market,
# 12 ca_idle_plant (capacity 0, no lane). commodities: 2 parts, 3 vehicles, 4 crude, 5 food,
# 6 electricity. crossings: 2 ambassador (road), 3 line5, 4 niagara_wire. boms: 2 us_assembly/parts.
# demand: 2 us_market/vehicles, 3 us_market/crude, 4 us_market/electricity, 5 ca_market/vehicles,
# 6 ca_market/food, 7 os_market/crude.
L, S, C, X = "lanes.csv", "sites.csv", "commodities.csv", "crossings.csv"
B, D = "boms.csv", "demand.csv"

# fmt: off
CASES: list[tuple[str, Mutation, str, list[str]]] = [
    # 1. files
    ("file-missing", delete(L), L, ["required file is missing"]),
    ("file-0-bytes", raw(S, b""), S, ["empty"]),
    ("file-blank-lines-only", raw(D, b"\n\n"), D, ["empty"]),
    ("file-not-utf8", raw(C, b"id,name\n\xff\xfe\xfa,x\n"), C, ["UTF-8"]),
    ("file-is-a-folder", as_dir(X), X, ["cannot be read"]),
    ("file-header-only", both(lambda d: _write(d, C, _read(d, C)[:1])), C, ["no data rows"]),
    # 2. columns
    ("column-missing", rename_col(L, "capacity", None), L, ["column 'capacity'", "missing"]),
    ("column-typo", rename_col(L, "transit_days", "transit_dys"), L, ["column 'transit_dys'"]),
    ("column-typo-names-missing", rename_col(L, "transit_days", "transit_dys"), L,
     ["column 'transit_days'", "missing"]),
    ("column-unknown", add_row(B, ""), B, []),  # placeholder replaced below
    ("column-twice", rename_col(S, "lat", "lon"), S, ["column 'lon'", "twice"]),
    ("row-too-many-cells", add_row(B, "us_assembly,food,1,x,extra"), B, ["row 3", "cells"]),
    # 3. duplicates
    ("dup-lane-id", copy_row(L, 3), L, ["row 11, column 'id'", "duplicate"]),
    ("dup-commodity-id", copy_row(C, 5), C, ["row 7, column 'id'", "duplicate"]),
    ("dup-site-is-crossing", cell(S, 8, "id", "line5"), X, ["row 3, column 'id'", "duplicate"]),
    ("dup-bom-line", copy_row(B, 2), B, ["row 3, column 'input'", "duplicate"]),
    ("dup-demand-row", copy_row(D, 6), D, ["row 8, column 'commodity'", "duplicate"]),
    ("crossing-capacity-0-used-by-a-lane", cell(X, 2, "capacity_sb", "0"), L, ["row 2, column 'crossing'", "capacity 0 southbound"]),
    # 4. numbers
    ("transit-negative", cell(L, 4, "transit_days", "-2"), L,
     ["row 4, column 'transit_days'", "must be a number > 0 and <= 365", "-2.0"]),
    ("transit-zero", cell(L, 5, "transit_days", "0"), L, ["row 5, column 'transit_days'"]),
    ("not-a-number", cell(L, 7, "capacity", "lots"), L, ["row 7, column 'capacity'", "'lots'"]),
    ("nan", cell(L, 3, "base_flow", "nan"), L, ["row 3, column 'base_flow'", "nan"]),
    ("inf", cell(C, 3, "value_usd", "inf"), C, ["row 3, column 'value_usd'"]),
    ("value-zero", cell(C, 2, "value_usd", "0"), C, ["row 2, column 'value_usd'"]),
    ("negative-cover", cell(S, 6, "cover_days", "-1"), S, ["row 6, column 'cover_days'", ">= 0"]),
    ("negative-cost", cell(L, 9, "cost_per_unit_usd", "-5"), L, ["row 9, column 'cost_per_unit"]),
    ("truck-units-zero", cell(C, 3, "units_per_truck", "0"), C,
     ["row 3, column 'units_per_truck'"]),
    ("railcar-units-neg", cell(C, 3, "units_per_railcar", "-1"), C,
     ["row 3, column 'units_per_railcar'"]),
    ("shelf-life-zero", cell(C, 5, "shelf_life_days", "0"), C, ["row 5, column 'shelf_life_days'"]),
    ("booths-fraction", cell(X, 2, "booths", "2.5"), X, ["row 2, column 'booths'"]),
    ("booths-zero", cell(X, 2, "booths", "0"), X, ["row 2, column 'booths'"]),
    ("wait-p95-below-median", cell(X, 2, "wait_p95_min", "8"), X, ["row 2, column 'wait_p95_min'"]),
    ("wait-only-median", cell(X, 2, "wait_p95_min", ""), X, ["row 2, column 'wait_p95_min'"]),
    ("required-blank", cell(D, 4, "mean_per_day", ""), D,
     ["row 4, column 'mean_per_day'", "blank"]),
    ("lat-out-of-range", cell(S, 2, "lat", "142"), S, ["row 2, column 'lat'"]),
    ("base-flow-over-capacity", cell(L, 5, "base_flow", "600"), L, ["row 5, column 'base_flow'"]),
    # 5. enumerations
    ("site-kind", cell(S, 5, "kind", "warehouse"), S, ["row 5, column 'kind'", "'warehouse'"]),
    ("crossing-kind", cell(X, 2, "kind", "bridge"), X, ["row 2, column 'kind'"]),
    ("mode", cell(L, 8, "mode", "plane"), L, ["row 8, column 'mode'"]),
    ("country", cell(S, 9, "country", "MX"), S, ["row 9, column 'country'"]),
    ("sector", cell(C, 2, "sector", "tech"), C, ["row 2, column 'sector'"]),
    ("unmet", cell(D, 2, "unmet", "maybe"), D, ["row 2, column 'unmet'"]),
    ("policy-case", cell(S, 5, "policy", "ss"), S, ["row 5, column 'policy'"]),
    ("storable", cell(C, 6, "storable", "yes"), C, ["row 6, column 'storable'", "0 or 1"]),
    # 6. references
    ("lane-unknown-site", cell(L, 9, "from", "us_farmz"), L,
     ["row 9, column 'from'", "unknown site"]),
    ("lane-to-crossing", cell(L, 3, "to", "ambassador"), L,
     ["row 3, column 'to'", "not a crossing"]),
    ("lane-unknown-crossing", cell(L, 5, "crossing", "line9"), L,
     ["row 5, column 'crossing'", "unknown crossing"]),
    ("lane-unknown-commodity", cell(L, 10, "commodity", "power"), L,
     ["row 10, column 'commodity'", "unknown commodity"]),
    ("site-unknown-commodity", cell(S, 12, "commodity", "trucks"), S,
     ["row 12, column 'commodity'"]),
    ("bom-plant-not-plant", cell(B, 2, "plant", "ca_parts"), B, ["row 2, column 'plant'", "plant"]),
    ("bom-unknown-input", cell(B, 2, "input", "steel"), B, ["row 2, column 'input'", "unknown"]),
    ("demand-not-market", cell(D, 3, "site", "us_tankfarm"), D, ["row 3, column 'site'", "market"]),
    ("demand-unknown-commodity", cell(D, 7, "commodity", "oil"), D, ["row 7, column 'commodity'"]),
    ("source-without-commodity", cell(S, 4, "commodity", ""), S, ["row 4, column 'commodity'"]),
    ("market-with-commodity", cell(S, 10, "commodity", "food"), S, ["row 10, column 'commodity'"]),
    # 7. the destination must take the commodity (and the origin must have it)
    ("plant-not-in-bom", cell(L, 2, "commodity", "vehicles"), L, ["row 2, column 'to'", "BOM"]),
    ("market-no-demand-row", drop_row(D, 6), L, ["row 9, column 'to'", "no demand row"]),
    ("lane-into-source", cell(L, 3, "to", "ca_crude"), L, ["row 3, column 'to'", "source"]),
    ("storage-no-outbound", drop_row(L, 6), L, ["row 5, column 'to'", "no outbound lane"]),
    ("origin-makes-other", cell(L, 9, "commodity", "vehicles"), L, ["row 9, column 'from'"]),
    ("market-ships", cell(L, 3, "from", "ca_market"), L, ["row 3, column 'from'", "market"]),
    # 8. no supplier for a plant input
    ("bom-no-supplier", add_row(B, "us_assembly,food,0.1,x"), B, ["row 3, column 'input'"]),
    # 9. market unreachable
    ("market-unreachable", add_row(D, "ca_market,crude,10,0,lost,x"), D,
     ["row 8, column 'commodity'", "reaches 'ca_market'"]),
    # 10. crossing and countries
    ("crossing-same-country", cell(L, 3, "crossing", "ambassador"), L,
     ["row 3, column 'crossing'"]),
    ("crossing-overseas", both(cell(L, 8, "crossing", "ambassador"), cell(L, 8, "mode", "truck")),
     L, ["row 8, column 'crossing'", "CA site and a US site"]),
    ("ca-us-no-crossing", cell(L, 2, "crossing", ""), L,
     ["row 2, column 'crossing'", "lane between CA and US must name a crossing"]),
    # 11. mode against crossing kind and units per vehicle
    ("mode-vs-crossing", cell(L, 4, "mode", "rail"), L, ["row 4, column 'mode'", "road crossing"]),
    ("pipeline-via-wire", cell(L, 5, "crossing", "niagara_wire"), L, ["row 5, column 'mode'"]),
    ("truck-no-units", cell(C, 2, "units_per_truck", ""), L, ["row 2, column 'mode'", "truck"]),
    ("rail-no-units", cell(L, 2, "mode", "rail"), L, ["row 2, column 'mode'", "units_per_railcar"]),
    # 12. (s, S) policy
    ("sS-without-S", cell(S, 5, "S_days", ""), S, ["row 5, column 'S_days'", "policy sS"]),
    ("sS-s-above-S", cell(S, 5, "s_days", "12"), S, ["row 5, column 's_days'", "<= S_days"]),
    ("s-without-sS", cell(S, 6, "s_days", "1"), S, ["row 6, column 's_days'", "only used"]),
    # sites in no lane
    ("site-in-no-lane", cell(S, 12, "capacity", "5"), S, ["row 12", "in no lane"]),
]
# fmt: on
# an unknown extra column
CASES[[c[0] for c in CASES].index("column-unknown")] = (
    "column-unknown",
    lambda d: _write(d, B, [[*r, "x"] for r in _read(d, B)]),
    B,
    ["column 'x'", "unknown column"],
)


def test_unknown_column_does_not_hide_other_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _copy(tmp_path)
    rename_col(S, "basis", "notes")(d)
    cell(L, 2, "crossing", "")(d)
    assert main(["validate", str(d)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "tiny/sites.csv: column 'notes': unknown column",
        "tiny/lanes.csv: row 2, column 'crossing': lane between CA and US must name a crossing",
    ]


def _copy(tmp_path: Path, name: str = "tiny") -> Path:
    d = tmp_path / name
    shutil.copytree(TINY, d)
    return d


def test_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("mutate", "fname", "expect"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_validate_reports_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation, fname: str,
    expect: list[str],
) -> None:  # fmt: skip
    d = _copy(tmp_path)
    mutate(d)
    code = main(["validate", str(d)])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "Traceback" not in out + err
    lines = [ln for ln in out.splitlines() if ln.startswith(f"tiny/{fname}")]
    assert any(all(e in ln for e in expect) for ln in lines), out


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(TINY)]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_validate_two_folders_one_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _copy(tmp_path, "good")
    bad = _copy(tmp_path, "bad")
    cell(L, 4, "transit_days", "-2")(bad)
    assert main(["validate", str(good), str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    msg = "bad/lanes.csv: row 4, column 'transit_days': transit_days must be a number > 0 and <= 365 (got -2.0)"
    assert out == [msg]


def test_console_script_exit_status(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    raw(S, b"\x00\xff garbage")(d)
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(d)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "tiny/sites.csv" in proc.stdout


def test_validate_a_path_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "no_such_network"
    assert main(["validate", str(missing)]) == 2
    out = capsys.readouterr().out
    assert f"{missing}: no such file, folder or built-in scenario" in out
