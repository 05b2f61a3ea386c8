"""Browse a network from the command line; unknown ids suggest valid ones; the sources are in the
repository."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"
NA = ROOT / "networks" / "north_america"


def _rows(folder: Path, f: str) -> list[dict[str, str]]:
    with open(folder / f, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("what", ["crossings", "commodities", "lanes", "sites"])
@pytest.mark.parametrize("where", [[str(TINY)], ["tiny"]], ids=["path", "built-in"])
def test_network_lists_every_item(
    capsys: pytest.CaptureFixture[str], what: str, where: list[str]
) -> None:
    assert main(["network", *where, what]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = _rows(TINY, f"{what}.csv")
    assert out[0].startswith(f"{len(rows)} {what} in network tiny")
    body = out[2:]
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        assert line.split()[0] == row["id"]
        if what in ("crossings", "commodities", "sites") and row.get("name"):
            assert row["name"] in line


def test_listing_columns_line_up(capsys: pytest.CaptureFixture[str]) -> None:
    # the header and every row: the first column left-aligned, the others right-aligned
    assert main(["network", str(TINY), "commodities"]) == 0
    table = capsys.readouterr().out.splitlines()[1:]
    assert len({len(line) for line in table}) == 1
    ids = [r["id"] for r in _rows(TINY, "commodities.csv")]
    width = max(len("id"), *map(len, ids))
    assert table[0].startswith("  " + "id".ljust(width) + "  ")
    assert table[0].endswith("  value/unit")
    for line, row in zip(table[1:], _rows(TINY, "commodities.csv"), strict=True):
        assert line.startswith("  " + row["id"].ljust(width) + "  ")
        assert line.endswith("  " + line.split()[-1]) and line.split()[-1].startswith("US$")


def test_lanes_show_direction_and_base_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["network", str(TINY), "lanes"]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln for ln in out.splitlines()[2:]}
    assert "southbound CA->US" in lines["parts_sb"] and "ambassador" in lines["parts_sb"]
    assert "100.0 load/d" in lines["parts_sb"] or re.search(r"100\.0 \w+/d", lines["parts_sb"])
    assert "northbound US->CA" in lines["vehicles_nb"]
    assert "domestic" in lines["vehicles_us"]


def test_default_network_is_north_america(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["network", "crossings"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(_rows(NA, 'crossings.csv'))} crossings in network north_america")
    assert "X_AMB" in out and "Ambassador" in out


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["network", "bridges"], "WHAT must be one of crossings, commodities, lanes, sites"),
        (["network", "tiny", "lanes", "x"], "WHAT must be one of"),
        (
            ["network", "no_such_net", "lanes"],
            "no such network folder or built-in network (built-in: ",
        ),
        (["network", "/etc", "lanes"], "required file is missing"),
    ],
)
def test_network_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], expect: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expect in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("measure", "expect"),
    [
        (
            'kind = "slowdown"\ncrossings = ["X_AMBB"]\ncapacity_factor = 0.5',
            "unknown crossing in network north_america (did you mean 'X_AMB'",
        ),
        (
            'kind = "slowdown"\ncrossings = ["zzzz"]\ncapacity_factor = 0.5',
            "unknown crossing in network north_america (list them: borderflow network north_america crossings)",
        ),
        (
            'kind = "plant_shutdown"\nsites = ["CA_GM_OSHH"]',
            "unknown site in network north_america (did you mean 'CA_GM_OSH'",
        ),
        (
            'kind = "tariff"\nimposer = "US"\nrate = 0.1\ncommodities = ["vehicle"]',
            "unknown commodity in network north_america (did you mean 'vehicles'",
        ),
        (
            'kind = "lane_open"\nlanes = ["nope_lane"]\ncapacity = 10.0',
            "unknown lane in network north_america (list them: borderflow network north_america lanes)",
        ),
    ],  # fmt: skip
    ids=["crossing-near", "crossing-far", "site-near", "commodity-near", "lane-far"],
)
def test_unknown_ids_suggest_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], measure: str, expect: str
) -> None:
    p = tmp_path / "s.toml"
    p.write_text(f'name = "s"\n[[measures]]\nid = "m"\nstart = 2025-02-01\n{measure}\n')
    assert main(["validate", str(p)]) == 2
    assert expect in capsys.readouterr().out


def test_sources_are_in_the_repository() -> None:
    sources = (NA / "SOURCES.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#+ (\d+(?:\.\d+a?)?)\.? ", sources, flags=re.M))
    cited: set[str] = set()
    files = [
        NA / "README.md",
        *NA.glob("*.csv"),
        *(ROOT / "experiments" / "scenarios").glob("*.toml"),
    ]
    for f in files:
        text = f.read_text(encoding="utf-8")
        cited |= set(re.findall(r"§(\d+(?:\.\d+a?)?)", text))
        assert "calibration_facts" not in text and "shared/" not in text, f
    assert cited and cited <= sections, sorted(cited - sections)
    assert len(set(re.findall(r"https://[^\s|,]+", sources))) >= 15
