"""Scenario files: extends merging, overrides, day numbers, built-in scenarios, frozen specs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
from pathlib import Path

import pytest

from sim import builtin_scenarios, load_scenario
from sim.errors import ScenarioError
from sim.io.paths import network_path
from sim.io.scenario import parse_override
from sim.spec.measures import KIND_KEYS, MEASURE_KINDS
from sim.spec.network import SECTORS
from sim.spec.scenario import (
    Costs,
    FrozenMap,
    Market,
    Measure,
    Scenario,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"
HEAD = f'network = "{TINY.as_posix()}"\n'

PARENT = (
    HEAD
    + """
name = "parent"
description = "the parent"
start = 2025-01-01
horizon_days = 365

[costs]
truck_hour_usd = 100.0
holding_rate_per_year = 0.3

[market]
qualification_days = 30
pass_through = { exporter = 0.5, importer = 0.5 }

[[measures]]
id = "t1"
kind = "tariff"
imposer = "US"
origin = "CA"
commodities = ["parts"]
rate = 0.25
exempt_share = 0.5
start = 2025-03-04
announce = 2025-02-01
stack_group = "g"
precedence = 1

[[measures]]
id = "s1"
kind = "slowdown"
crossings = ["ambassador"]
direction = "sb"
capacity_factor = 0.5
start = 2025-04-01
end = 2025-05-01

[[measures]]
id = "d1"
kind = "demand_shock"
sites = ["ca_market"]
origin = "US"
demand_factor = 0.8
start = 2025-02-01
"""
)

CHILD = """
extends = "parent.toml"
horizon_days = 400

[costs]
truck_hour_usd = 120.0

[market]
switch_ramp_days = 10

[[measures]]
id = "t1"
rate = 0.35

[[measures]]
id = "s1"
drop = true

[[measures]]
id = "o1"
kind = "outage"
crossings = ["line5"]
start = 2025-06-01
end = 2025-06-08
"""


def write(folder: Path, name: str, text: str) -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def family(tmp_path: Path) -> Path:
    write(tmp_path, "parent.toml", PARENT)
    return write(tmp_path, "child.toml", CHILD)


def rules(exc: pytest.ExceptionInfo[ScenarioError]) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# -- extends ----------------------------------------------------------------------------------


def test_extends_scalars_replace_and_name_is_not_inherited(family: Path) -> None:
    sc = load_scenario(family)
    assert sc.name == "child"  # the file stem, not the parent's name
    assert sc.description == "the parent"  # inherited
    assert sc.horizon_days == 400  # replaced
    assert sc.network == TINY.as_posix()  # inherited
    assert sc.start == dt.date(2025, 1, 1)
    assert sc.sources == (str(family), str(family.parent / "parent.toml"))


def test_extends_costs_and_market_merge_key_by_key(family: Path) -> None:
    sc = load_scenario(family)
    assert sc.costs.truck_hour_usd == 120.0
    assert sc.costs.holding_rate_per_year == 0.3
    assert sc.costs.lost_margin_share == Costs().lost_margin_share
    assert dict(sc.market.qualification_days) == dict.fromkeys(SECTORS, 30.0)
    assert dict(sc.market.switch_ramp_days) == dict.fromkeys(SECTORS, 10.0)
    # a pass_through table replaces the default as a whole: parties not listed bear 0
    assert dict(sc.market.pass_through) == {
        "exporter": 0.5,
        "importer": 0.5,
        "downstream": 0.0,
        "consumer": 0.0,
    }


def test_extends_measures_merge_by_id_drop_and_append(family: Path) -> None:
    sc = load_scenario(family)
    assert [m.id for m in sc.measures] == ["t1", "d1", "o1"]
    t1 = sc.measure("t1")
    assert t1.rate == 0.35  # replaced field
    assert (t1.imposer, t1.origin, t1.commodities, t1.exempt_share) == ("US", "CA", ("parts",), 0.5)
    assert t1.announce == 31 and t1.start == 62
    o1 = sc.measure("o1")
    assert o1.capacity_factor == 0.0  # outage default: down
    with pytest.raises(KeyError):
        sc.measure("s1")


def test_extends_chain_of_three(tmp_path: Path, family: Path) -> None:
    write(tmp_path, "grandchild.toml", 'extends = "child"\n[[measures]]\nid = "d1"\ndrop = true\n')
    sc = load_scenario(tmp_path / "grandchild.toml")
    assert [m.id for m in sc.measures] == ["t1", "o1"]
    assert sc.horizon_days == 400 and sc.measure("t1").rate == 0.35
    assert len(sc.sources) == 3


def test_extends_builtin_by_name(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "mine.toml",
        'extends = "tariffs_2025"\n[[measures]]\nid = "us_ieepa_35"\nrate = 0.5\n',
    )
    sc = load_scenario(p)
    base = load_scenario("tariffs_2025")
    assert [m.id for m in sc.measures] == [m.id for m in base.measures]
    assert sc.measure("us_ieepa_35").rate == 0.5
    assert network_path(sc) == network_path(base)


def test_child_measure_keys_are_validated_after_merge(tmp_path: Path, family: Path) -> None:
    write(
        tmp_path, "bad_child.toml", 'extends = "parent.toml"\n[[measures]]\nid = "t1"\nrate = 7.0\n'
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "bad_child.toml")
    (p,) = exc.value.problems
    assert p.where == "key 'measures[0] (t1).rate'"
    assert p.file == str(tmp_path / "bad_child.toml")  # the file that set the bad value


def test_problem_in_parent_names_the_parent_file(tmp_path: Path) -> None:
    write(tmp_path, "parent.toml", PARENT.replace("exempt_share = 0.5", "exempt_share = 2.0"))
    p = write(tmp_path, "child.toml", CHILD)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    (prob,) = exc.value.problems
    assert prob.file == str(tmp_path / "parent.toml")
    assert prob.where == "key 'measures[0] (t1).exempt_share'"


@pytest.mark.parametrize(
    "files",
    [
        {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
        {"a.toml": 'extends = "a.toml"\n'},
        {"a.toml": 'extends = "b"\n', "b.toml": 'extends = "c"\n', "c.toml": 'extends = "a"\n'},
    ],
    ids=["a-b-a", "a-a", "a-b-c-a"],
)
def test_extends_cycle_is_reported_with_the_chain(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        write(tmp_path, name, HEAD + text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "a.toml")
    cyc = [p for p in exc.value.problems if "extends cycle" in p.rule]
    assert len(cyc) == 1
    assert cyc[0].where == "key 'extends'"
    for name in files:
        assert name in cyc[0].rule
    assert cyc[0].rule.count("a.toml") == 2


def test_extends_target_not_found(tmp_path: Path) -> None:
    p = write(tmp_path, "a.toml", HEAD + 'extends = "no_such_parent"\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    assert exc.value.problems[0].where == "key 'extends'"
    assert "no such file" in exc.value.problems[0].rule


def test_drop_needs_a_parent_measure(tmp_path: Path, family: Path) -> None:
    p = write(
        tmp_path, "c2.toml", 'extends = "parent.toml"\n[[measures]]\nid = "zz"\ndrop = true\n'
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    assert "zz" in rules(exc)


# -- overrides ----------------------------------------------------------------------------------


def test_overrides_set_dotted_keys(family: Path) -> None:
    sc = load_scenario(
        family,
        {
            "horizon_days": 500,
            "costs.truck_hour_usd": 80,
            "market.qualification_days": 7,
            "market.elasticity.farm": -1.5,
            "measures.t1.rate": 0.5,
            "measures.t1.start": dt.date(2025, 6, 1),
            "measures.d1.drop": True,
        },
    )
    assert sc.horizon_days == 500
    assert sc.costs.truck_hour_usd == 80.0
    assert sc.market.qualification_days["auto"] == 7.0
    assert sc.market.elasticity["farm"] == -1.5
    assert sc.market.elasticity["auto"] == -1.0  # other sectors keep their defaults
    assert sc.measure("t1").rate == 0.5 and sc.measure("t1").start == sc.day("2025-06-01")
    assert [m.id for m in sc.measures] == ["t1", "o1"]
    assert ("measures.t1.rate", "0.5") in sc.overrides


def test_overrides_are_validated(family: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(family, {"measures.t1.rate": 9.0, "horizon_days": 0})
    wheres = {p.where for p in exc.value.problems}
    assert "key 'measures[0] (t1).rate' (override)" in wheres
    assert "key 'horizon_days' (override)" in wheres


@pytest.mark.parametrize(
    "key",
    ["colour", "costs.fuel", "market.speed", "measures.nope.rate", "measures.t1.nope", "a.b.c.d"],
)
def test_unknown_override_keys_are_problems(family: Path, key: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(family, {key: 1})
    assert exc.value.problems[0].where == f"override '{key}'"


def test_override_pass_through_share_rescales_the_other_parties(family: Path) -> None:
    # the parent's table is exporter 0.5, importer 0.5: setting the exporter's share to 0.7 leaves
    # 0.3 to the others in their old proportions
    sc = load_scenario(family, {"market.pass_through.exporter": 0.7})
    assert dict(sc.market.pass_through) == pytest.approx(
        {"exporter": 0.7, "importer": 0.3, "downstream": 0.0, "consumer": 0.0}
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(family, {"market.pass_through.exporter": 1.7})
    assert "must be in 0..1" in rules(exc)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(family, {"market.pass_through": {"consumer": 0.7}})
    assert "sum to 1" in rules(exc)
    sc = load_scenario(family, {"market.pass_through": {"consumer": 1.0}})
    assert sc.market.pass_through["consumer"] == 1.0


def test_sweep_over_parsed_values(family: Path) -> None:
    key, values = parse_override("measures.t1.rate=0.25,0.35")
    rates = [load_scenario(family, {key: v}).measure("t1").rate for v in values]
    assert rates == [0.25, 0.35]


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("measures.us_tariff.rate=0.25,0.35", "measures.us_tariff.rate", [0.25, 0.35]),
        ("horizon_days=365", "horizon_days", [365]),
        (" horizon_days = 30 , 60 ", "horizon_days", [30, 60]),
        ("measures.t.transit_exempt=true,false", "measures.t.transit_exempt", [True, False]),
        ("measures.t.start=2025-06-01", "measures.t.start", [dt.date(2025, 6, 1)]),
        ('name="a,b",c', "name", ["a,b", "c"]),
        ("measures.s.crossings=X_AMB", "measures.s.crossings", ["X_AMB"]),
        (
            'measures.s.crossings=["a", "b"],["c"]',
            "measures.s.crossings",
            [["a", "b"], ["c"]],
        ),
        ("market.pass_through={consumer = 1.0}", "market.pass_through", [{"consumer": 1.0}]),
        ("measures.t.kind=tariff", "measures.t.kind", ["tariff"]),
    ],
)
def test_parse_override(text: str, key: str, values: list[object]) -> None:
    assert parse_override(text) == (key, values)


@pytest.mark.parametrize("text", ["no_equals", "=1", "a=", "a=1,,2", "a..b=1", 'a="open'])
def test_parse_override_rejects(text: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_override(text)
    assert exc.value.problems[0].where == f"override '{text}'"


# -- day numbers --------------------------------------------------------------------------------


def test_day_numbers_from_dates(family: Path) -> None:
    sc = load_scenario(family)
    assert sc.day(dt.date(2025, 1, 1)) == 0
    assert sc.day(dt.date(2025, 3, 4)) == 62
    assert sc.day("2026-01-01") == 365
    assert sc.day(dt.date(2024, 12, 31)) == -1
    assert sc.date(62) == dt.date(2025, 3, 4)
    assert sc.date(62.7) == dt.date(2025, 3, 4)
    o1 = sc.measure("o1")
    assert (o1.start, o1.end) == (sc.day("2025-06-01"), sc.day("2025-06-08"))


def test_end_is_exclusive() -> None:
    m = Measure(id="x", kind="closure", start=5, end=8)
    assert [d for d in range(10) if m.active(d)] == [5, 6, 7]
    assert Measure(id="y", kind="closure", start=5).active(10_000)


def test_2025_timeline_day_numbers() -> None:
    sc = load_scenario("tariffs_2025")
    assert sc.measure("us_ieepa_25").start == 62  # 2025-03-04
    assert sc.measure("us_ieepa_25").announce == 31  # 2025-02-01
    assert sc.measure("us_ieepa_35").start == 212  # 2025-08-01
    assert sc.measure("ca_counter_consumer").end == 243  # 2025-09-01


# -- built-in scenarios -------------------------------------------------------------------------


def test_builtin_set() -> None:
    assert {
        "baseline",
        "tariffs_2025",
        "talks_collapse",
        "capitulation",
        "diversify_only",
    } <= set(builtin_scenarios())


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_loads(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name
    assert len(sc.description.split()) >= 15
    assert len({m.id for m in sc.measures}) == len(sc.measures)
    for m in sc.measures:
        assert 0 <= m.start <= sc.horizon_days
        assert m.end is None or m.start < m.end <= sc.horizon_days


def test_builtin_semantics() -> None:
    t = load_scenario("tariffs_2025")
    grp = [m for m in t.measures if m.stack_group == "us_ieepa"]
    assert t.measure("us_ieepa_35").precedence > t.measure("us_ieepa_25_usmca").precedence
    assert max(grp, key=lambda m: m.precedence).id == "us_232_parts"
    assert t.measure("us_232_vehicles").content_basis == "non_us"
    talks = load_scenario("talks_collapse")
    assert talks.measure("us_ieepa_45").rate == 0.45
    assert talks.measure("us_enhanced_inspection").crossings[0] == "X_AMB"
    assert {m.id for m in t.measures} < {m.id for m in talks.measures}
    cap = load_scenario("capitulation")
    deal = cap.day("2025-11-01")
    us = [m for m in cap.measures if m.kind == "tariff" and m.imposer == "US"]
    assert us and all(m.end == deal for m in us)
    div = load_scenario("diversify_only")
    assert {m.kind for m in div.measures} == {"lane_open"}
    lanes_talks = {m.id: m.lanes for m in talks.measures if m.kind == "lane_open"}
    assert {m.id: m.lanes for m in div.measures} == lanes_talks


# -- frozen specs -------------------------------------------------------------------------------


def test_specs_are_frozen(family: Path) -> None:
    sc = load_scenario(family)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.horizon_days = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.measures[0].rate = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.costs.truck_hour_usd = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.market.switch_logit = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        sc.market.pass_through["consumer"] = 1.0  # type: ignore[index]
    assert isinstance(sc.measures, tuple)
    assert isinstance(sc.measures[0].commodities, tuple)


def test_specs_hash_compare_and_pickle() -> None:
    sc = load_scenario("talks_collapse")
    assert hash(sc) == hash(load_scenario("talks_collapse"))
    assert sc == load_scenario("talks_collapse")
    assert pickle.loads(pickle.dumps(sc)) == sc
    assert Market(pass_through={"consumer": 1.0}).pass_through == FrozenMap({"consumer": 1.0})
    assert isinstance(Market(pass_through={"consumer": 1.0}).pass_through, FrozenMap)
    assert sum(Market().pass_through.values()) == pytest.approx(1.0)
    assert Scenario("x").market == Market()


def test_kind_key_table_covers_measure_fields() -> None:
    names = {f.name for f in dataclasses.fields(Measure)}
    used = {"id", "kind", "start", "end"}.union(*KIND_KEYS.values())
    assert used == names
    assert set(KIND_KEYS) == set(MEASURE_KINDS)


def test_missing_file_and_unknown_builtin() -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario("no/such/file.toml")
    with pytest.raises(ScenarioError, match="built-in"):
        load_scenario("no_such_scenario")


def test_readme_measure_key_table_is_generated_from_the_kind_declarations() -> None:
    from sim.spec.measures import key_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- measure-keys:start -->\n", "<!-- measure-keys:end -->"
    table = readme[readme.index(start) + len(start) : readme.index(end)]
    assert table == key_table(), "README measure table is stale: python -m sim.spec.measures"


def test_switching_parameters_by_sector_from_numbers_tables_and_overrides() -> None:
    sc = load_scenario("baseline")
    assert dict(sc.market.switch_logit) == {"auto": 3.0, "farm": 5.0, "energy": 1.5, "multi": 4.0}
    assert sc.market.duty_absorption["auto"] == 0.55
    sc = load_scenario(
        "baseline",
        overrides={"market.qualification_days.auto": 60, "market.duty_absorption": 0.2},
    )
    assert dict(sc.market.qualification_days) == {
        "auto": 60.0, "farm": 30.0, "energy": 90.0, "multi": 60.0
    }  # fmt: skip
    assert dict(sc.market.duty_absorption) == dict.fromkeys(SECTORS, 0.2)
    sc = load_scenario("baseline", overrides={"market.switch_logit": 2, "market.switch_logit.farm": 9})
    assert dict(sc.market.switch_logit) == {"auto": 2.0, "farm": 9.0, "energy": 2.0, "multi": 2.0}


@pytest.mark.parametrize("value", ['["a", 1]', "{ x = 1 }", "3", "true"])
def test_a_kind_that_is_not_a_string_is_a_clear_problem(tmp_path: Path, value: str) -> None:
    p = tmp_path / "k.toml"
    p.write_text(
        f'name = "k"\nnetwork = "{TINY.as_posix()}"\nhorizon_days = 10\n'
        f"[[measures]]\nid = \"m\"\nkind = {value}\nstart = 2025-01-02\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"measures\[0\] \(m\)\.kind'?: unknown kind"):
        load_scenario(p)
