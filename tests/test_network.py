"""Loading ``networks/tiny``: specs, frozen graph, and every problem reported at once."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_network
from sim.errors import NetworkError, SimError
from sim.spec.network import Commodity, Network, Site

TINY = Path(__file__).resolve().parents[1] / "networks" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Network:
    return load_network(TINY)


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    shutil.copytree(TINY, d)
    return d


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_load_tiny_counts(tiny: Network) -> None:
    assert tiny.name == "tiny"
    assert tiny.path == str(TINY)
    counts = [len(x) for x in (tiny.commodities, tiny.sites, tiny.crossings, tiny.lanes)]
    assert counts == [5, 11, 3, 9]
    assert (len(tiny.boms), len(tiny.demand)) == (1, 6)
    assert tiny.graph.number_of_nodes() == 11 + 3
    assert tiny.graph.number_of_edges() == 9


def test_load_tiny_values_in_file_order(tiny: Network) -> None:
    assert [s.id for s in tiny.sites][:3] == ["ca_parts", "us_assembly", "ca_crude"]
    assert tiny.commodity["food"].perishable and tiny.commodity["food"].shelf_life_days == 10.0
    assert not tiny.commodity["electricity"].storable
    assert tiny.commodity["crude"].units_per_truck is None
    tank = tiny.site["us_tankfarm"]
    assert (tank.policy, tank.s_days, tank.S_days, tank.commodity) == ("sS", 3.0, 10.0, None)
    assert tiny.site["ca_parts"].policy == "base_stock"  # blank policy
    assert tiny.site["us_market"].capacity is None  # blank = unlimited
    amb = tiny.crossing["ambassador"]
    assert amb.booths == 12 and isinstance(amb.booths, int)
    assert (amb.capacity("sb"), amb.observed("nb")) == (8000.0, 3400.0)
    lane = tiny.lane["crude_sb"]
    assert (lane.origin, lane.dest, lane.crossing, lane.capacity) == (
        "ca_crude", "us_tankfarm", "line5", 540.0,
    )  # fmt: skip
    assert tiny.lane["vehicles_us"].crossing is None
    assert tiny.bom("us_assembly") == {"parts": 1.0}


def test_graph_is_a_frozen_digraph(tiny: Network) -> None:
    assert isinstance(tiny.graph, nx.DiGraph)
    assert nx.is_frozen(tiny.graph)
    with pytest.raises(nx.NetworkXError):
        tiny.graph.add_node("x")
    assert tiny.graph.edges["ca_parts", "us_assembly"]["lane"] == "parts_sb"


def test_specs_are_frozen(tiny: Network) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.sites[0].capacity = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.lanes[0].base_flow = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        tiny.site["x"] = Site("x", "source", "CA", "auto")  # type: ignore[index]


def test_direction(tiny: Network) -> None:
    assert tiny.direction(tiny.lane["parts_sb"]) == "sb"
    assert tiny.direction(tiny.lane["vehicles_nb"]) == "nb"
    assert tiny.direction(tiny.lane["vehicles_us"]) == ""
    assert tiny.direction(tiny.lane["crude_asia"]) == ""  # CA -> overseas


def test_accepts_str_and_trailing_slash() -> None:
    assert load_network(str(TINY) + "/").name == "tiny"


def test_idle_site_without_lanes_is_allowed(tiny: Network) -> None:
    idle = tiny.site["ca_idle_plant"]
    assert idle.capacity == 0 and tiny.graph.degree("ca_idle_plant") == 0


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _replace(d / "lanes.csv", "ca_parts,us_assembly,parts,truck,ambassador,1,",
             "ca_parts,us_assembly,parts,truck,ambassador,-1,")  # fmt: skip
    _replace(d / "lanes.csv", "crude_us,us_tankfarm,us_market,crude,pipeline,,2,0.1,,400,",
             "crude_us,us_tankfarm,us_market,crude,pipeline,,2,0.1,,abc,")  # fmt: skip
    _replace(d / "crossings.csv", ",12,10,35,", ",12,10,5,")
    _replace(d / "commodities.csv", "parts,auto parts,auto,", "parts,auto parts,cars,")
    _replace(d / "demand.csv", "backorder", "later")
    with pytest.raises(NetworkError) as info:
        load_network(d)
    found = [(p.file, p.where) for p in info.value.problems]
    assert found == [
        ("tiny/commodities.csv", "row 2, column 'sector'"),
        ("tiny/crossings.csv", "row 2, column 'wait_p95_min'"),
        ("tiny/lanes.csv", "row 2, column 'transit_days'"),
        ("tiny/lanes.csv", "row 6, column 'base_flow'"),
        ("tiny/demand.csv", "row 2, column 'unmet'"),
    ]
    assert str(info.value).startswith("5 problems found")
    msg = "tiny/lanes.csv: row 2, column 'transit_days': transit_days must be a number > 0 and <= 365 (got -1.0)"
    assert f"  {msg}" in str(info.value).splitlines()


def test_network_error_is_value_error(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "boms.csv").unlink()
    with pytest.raises(ValueError, match="boms.csv"):
        load_network(d)
    with pytest.raises(SimError):
        load_network(d)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NetworkError) as info:
        load_network(tmp_path / "nowhere")
    (p,) = info.value.problems
    assert p.file.endswith("nowhere") and "does not exist" in p.rule


def test_not_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "sites.csv"
    f.write_text("id\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="not a folder"):
        load_network(f)


def test_all_files_missing_reports_each(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NetworkError) as info:
        load_network(tmp_path / "empty")
    assert [p.file for p in info.value.problems] == [
        f"empty/{f}"
        for f in ("commodities.csv", "sites.csv", "crossings.csv", "lanes.csv", "boms.csv",
                  "demand.csv")
    ]  # fmt: skip


def test_spreadsheet_quirks_are_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark, CRLF line ends, padded cells and blank lines (Excel exports)."""
    d = _copy(tmp_path)
    text = (d / "lanes.csv").read_text(encoding="utf-8")
    text = text.replace(",truck,", ", truck ,").replace("\n", "\r\n") + ",,,,,,,,,,,\r\n\r\n"
    (d / "lanes.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (d / "boms.csv").write_text("plant,input,qty_per_unit,basis\n" + "us_assembly,parts,1,\n")
    net = load_network(d)
    assert net.lane["parts_sb"].mode == "truck" and len(net.lanes) == 9


def test_boms_may_have_no_rows(tmp_path: Path) -> None:
    """A header-only boms.csv is allowed; the plant's input lane is then the problem."""
    d = _copy(tmp_path)
    (d / "boms.csv").write_text("plant,input,qty_per_unit,basis\n", encoding="utf-8")
    with pytest.raises(NetworkError) as info:
        load_network(d)
    assert [(p.file, p.where) for p in info.value.problems] == [
        ("tiny/lanes.csv", "row 2, column 'to'")
    ]


def test_problem_rows_count_the_header(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _replace(d / "commodities.csv", "energy,MWh,50,", "energy,MWh,-50,")
    with pytest.raises(NetworkError) as info:
        load_network(d)
    assert [p.where for p in info.value.problems] == ["row 6, column 'value_usd'"]
    assert info.value.problems[0].value == -50.0


NASTY = st.sampled_from(
    ["", "-1", "0", "nan", "inf", "1e400", "x", "ambassador", "CA", "US", "sS", "truck", "rail",
     "1.5", " ", '"', "\x00", "parts", "us_market", "é"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fname=st.sampled_from(
        ["commodities.csv", "sites.csv", "crossings.csv", "lanes.csv", "boms.csv", "demand.csv"]
    ),
    row=st.integers(0, 12),
    col=st.integers(0, 14),
    value=NASTY,
)
def test_any_single_cell_edit_loads_or_raises_network_error(
    fname: str, row: int, col: int, value: str
) -> None:
    """Whatever one cell holds, loading returns a Network or raises NetworkError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "tiny"
        shutil.copytree(TINY, d)
        lines = (d / fname).read_text(encoding="utf-8").splitlines()
        r = row % len(lines)
        cells = lines[r].split(",")
        cells[col % len(cells)] = value
        lines[r] = ",".join(cells)
        (d / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            net = load_network(d)
        except NetworkError as exc:
            assert exc.problems
            assert all(p.file.startswith("tiny/") and p.rule for p in exc.problems)
        else:
            assert isinstance(net.commodities[0], Commodity)


def test_network_pickles_and_rebuilds_its_graph() -> None:
    import pickle

    net = load_network(TINY)
    back = pickle.loads(pickle.dumps(net))
    assert back == net
    assert sorted(back.graph.edges) == sorted(net.graph.edges)
    assert dict(back.lane) == dict(net.lane)
    assert nx.is_frozen(back.graph)


def test_reachability_uses_every_producer_whatever_their_order(tmp_path: Path) -> None:
    """A market is reached if any producer of the commodity reaches it, not only the first listed."""
    d = _copy(tmp_path)
    sites = (d / "sites.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    idle = next(line for line in sites if line.startswith("ca_idle_plant,"))
    first_idle = idle.replace("ca_idle_plant,", "ca_idle_first,", 1)
    (d / "sites.csv").write_text(sites[0] + first_idle + "".join(sites[1:]), encoding="utf-8")
    net = load_network(d)  # the idle plant listed before us_assembly makes vehicles too
    assert net.site["ca_idle_first"].capacity == 0
