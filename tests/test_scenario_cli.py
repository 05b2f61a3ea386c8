"""``borderflow validate`` on malformed scenario files: exit 2, each problem names file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"
HEAD = f'name = "case"\nnetwork = "{TINY.as_posix()}"\n'

# a valid measure of each kind on the tiny network; cases edit one line
T1 = """
[[measures]]
id = "t1"
kind = "tariff"
imposer = "US"
origin = "CA"
commodities = ["parts"]
rate = 0.25
start = 2025-03-04
"""
S1 = """
[[measures]]
id = "s1"
kind = "slowdown"
crossings = ["ambassador"]
direction = "sb"
capacity_factor = 0.6
inspection_factor = 3.0
secondary_share = 0.1
secondary_hours = 2.0
start = 2025-11-01
end = 2026-05-01
"""
C1 = '\n[[measures]]\nid = "c1"\nkind = "closure"\ncrossings = ["ambassador"]\nstart = 2025-02-07\nend = 2025-02-13\n'
O1 = '\n[[measures]]\nid = "o1"\nkind = "outage"\ncrossings = ["line5"]\ncapacity_factor = 0.0\nstart = 2025-04-08\nend = 2025-04-15\n'
P1 = '\n[[measures]]\nid = "p1"\nkind = "port_strike"\nsites = ["ca_port"]\nrecovery_days = 14\nstart = 2025-11-04\nend = 2025-11-14\n'
PS1 = '\n[[measures]]\nid = "ps1"\nkind = "plant_shutdown"\nsites = ["us_assembly"]\nstart = 2025-05-01\nend = 2025-05-15\n'
D1 = '\n[[measures]]\nid = "d1"\nkind = "demand_shock"\nsites = ["ca_market"]\norigin = "US"\ndemand_factor = 0.8\nstart = 2025-02-01\n'
L1 = '\n[[measures]]\nid = "l1"\nkind = "lane_open"\nlanes = ["vehicles_nb"]\ncapacity = 80.0\nramp_days = 0\nstart = 2025-06-01\n'
E1 = '\n[[measures]]\nid = "e1"\nkind = "export_levy"\nimposer = "CA"\ncommodities = ["electricity"]\nrate = 0.25\nstart = 2025-03-10\nend = 2025-03-12\n'
VALID = (
    HEAD + "start = 2025-01-01\nhorizon_days = 730\n" + T1 + S1 + C1 + O1 + P1 + PS1 + D1 + L1 + E1
)

# (case id, file text (or {file name: text}, first is validated), text the output must hold)
CASES: list[tuple[str, str | dict[str, str], str]] = [
    # file and top level
    ("bad_toml_syntax", HEAD + "horizon_days = = 3\n", "not valid TOML"),
    ("unknown_top_key", HEAD + 'colour = "red"\n', "key 'colour': unknown key"),
    ("name_not_string", 'name = 3\nnetwork = "x"\n', "key 'name'"),
    ("start_not_date", HEAD + 'start = "2025-01-01"\n', "key 'start': must be a date"),
    ("horizon_zero", HEAD + "horizon_days = 0\n", "key 'horizon_days': must be an integer"),
    ("horizon_float", HEAD + "horizon_days = 730.0\n", "key 'horizon_days'"),
    ("horizon_too_long", HEAD + "horizon_days = 40000\n", "key 'horizon_days'"),
    ("network_missing", 'network = "/no/such/network"\n', "key 'network': resolves to /no/such/network, outside the scenario's folder"),
    ("unknown_cost_key", HEAD + "[costs]\nfuel = 1.0\n", "key 'costs.fuel': unknown cost parameter"),
    ("cost_negative", HEAD + "[costs]\ntruck_hour_usd = -5\n", "key 'costs.truck_hour_usd': must be in 0..1e+06"),
    ("cost_share_above_1", HEAD + "[costs]\nlost_margin_share = 1.5\n", "key 'costs.lost_margin_share': must be in 0..1"),
    ("cost_bool", HEAD + "[costs]\ntruck_hour_usd = true\n", "key 'costs.truck_hour_usd': must be a number"),
    ("unknown_market_key", HEAD + "[market]\nspeed = 1\n", "key 'market.speed': unknown market parameter"),
    ("pass_through_sum", HEAD + "[market]\npass_through = { exporter = 0.5, consumer = 0.6 }\n", "key 'market.pass_through': shares must sum to 1"),
    ("pass_through_negative", HEAD + "[market]\npass_through = { exporter = -0.5, consumer = 1.5 }\n", "key 'market.pass_through.exporter': must be in 0..1"),
    ("pass_through_unknown_party", HEAD + "[market]\npass_through = { treasury = 1.0 }\n", "key 'market.pass_through.treasury': unknown party"),
    ("elasticity_positive", HEAD + "[market]\nelasticity = { farm = 0.5 }\n", "key 'market.elasticity.farm': elasticity must be in -10..0"),
    ("elasticity_unknown_sector", HEAD + "[market]\nelasticity = { toys = -1.0 }\n", "key 'market.elasticity.toys': unknown sector"),
    ("market_negative", HEAD + "[market]\nqualification_days = -1\n", "key 'market.qualification_days': must be in 0..36500"),
    ("absorption_above_1", HEAD + "[market]\nduty_absorption = { auto = 1.2 }\n", "key 'market.duty_absorption.auto': must be in 0..1"),
    ("absorption_number_above_1", HEAD + "[market]\nduty_absorption = 2\n", "key 'market.duty_absorption': must be in 0..1"),
    ("switch_logit_unknown_sector", HEAD + "[market]\nswitch_logit = { toys = 2 }\n", "key 'market.switch_logit.toys': unknown sector"),
    ("switch_ramp_text", HEAD + '[market]\nswitch_ramp_days = "slow"\n', "key 'market.switch_ramp_days': must be a number or a table sector -> number"),
    ("warmup_beyond_horizon", HEAD + "horizon_days = 30\nwarmup_days = 30\n", "key 'warmup_days': must be an integer in 0..horizon_days - 1"),
    ("remission_above_1", HEAD + T1.replace("rate = 0.25", "rate = 0.25\nremission_share = 1.5"), "key 'measures[0] (t1).remission_share': must be a share in 0..1"),
    ("measures_not_array", HEAD + "measures = 5\n", "key 'measures': must be an array of tables"),
    # measure keys and types
    ("unknown_measure_key", HEAD + T1.replace("rate = 0.25", "rat = 0.25"), "key 'measures[0] (t1).rat': unknown key"),
    ("key_not_used_by_kind", HEAD + S1.replace("direction", 'rate = 0.1\ndirection'), "key 'measures[0] (s1).rate': not used by kind 'slowdown'"),
    ("unknown_kind", HEAD + T1.replace('"tariff"', '"embargo"'), "key 'measures[0] (t1).kind': unknown kind"),
    ("missing_kind", HEAD + T1.replace('kind = "tariff"\n', ""), "key 'measures[0] (t1).kind': required"),
    ("missing_id", HEAD + T1.replace('id = "t1"\n', ""), "key 'measures[0].id': required"),
    ("missing_start", HEAD + T1.replace("start = 2025-03-04\n", ""), "key 'measures[0] (t1).start': required"),
    ("missing_rate", HEAD + T1.replace("rate = 0.25\n", ""), "key 'measures[0] (t1).rate': required for kind 'tariff'"),
    ("id_with_dot", HEAD + T1.replace('"t1"', '"t.1"'), "key 'measures[0] (t.1).id': must be letters"),
    ("rate_string", HEAD + T1.replace("rate = 0.25", 'rate = "25%"'), "key 'measures[0] (t1).rate': must be a number"),
    ("rate_bool", HEAD + T1.replace("rate = 0.25", "rate = true"), "key 'measures[0] (t1).rate': must be a number"),
    ("rate_nan", HEAD + T1.replace("rate = 0.25", "rate = nan"), "key 'measures[0] (t1).rate': must be finite"),
    ("start_string", HEAD + T1.replace("start = 2025-03-04", 'start = "2025-03-04"'), "key 'measures[0] (t1).start': must be a date"),
    ("start_datetime", HEAD + T1.replace("start = 2025-03-04", "start = 2025-03-04T00:00:00"), "key 'measures[0] (t1).start': must be a date"),
    ("list_is_string", HEAD + T1.replace('["parts"]', '"parts"'), "key 'measures[0] (t1).commodities': must be an array of strings"),
    ("list_of_numbers", HEAD + T1.replace('["parts"]', "[1, 2]"), "key 'measures[0] (t1).commodities': must be an array of strings"),
    ("list_repeats", HEAD + T1.replace('["parts"]', '["parts", "parts"]'), "key 'measures[0] (t1).commodities': lists an id twice"),
    ("precedence_float", HEAD + T1.replace("rate = 0.25", "rate = 0.25\nprecedence = 1.5"), "key 'measures[0] (t1).precedence': must be an integer"),
    ("transit_exempt_string", HEAD + T1.replace("rate = 0.25", 'rate = 0.25\ntransit_exempt = "yes"'), "key 'measures[0] (t1).transit_exempt': must be true or false"),
    ("duplicate_id", HEAD + T1 + T1.replace('"parts"', '"crude"'), "key 'measures[1] (t1).id': duplicate measure id (also measures[0])"),
    # network ids and kinds
    ("unknown_commodity", HEAD + T1.replace('"parts"', '"widgets"'), "key 'measures[0] (t1).commodities[0]': unknown commodity"),
    ("unknown_sector", HEAD + T1.replace("commodities = [\"parts\"]", 'sectors = ["toys"]'), "key 'measures[0] (t1).sectors[0]': unknown sector"),
    ("commodity_outside_sectors", HEAD + T1.replace("commodities", 'sectors = ["farm"]\ncommodities'), "key 'measures[0] (t1).commodities[0]': commodity of sector 'auto'"),
    ("tariff_on_goods_that_never_cross", HEAD + T1.replace('imposer = "US"\norigin = "CA"', 'imposer = "CA"\norigin = "US"'), "key 'measures[0] (t1).commodities[0]': no lane carries parts into CA from US"),
    ("levy_on_goods_that_never_leave", HEAD + E1.replace('imposer = "CA"', 'imposer = "US"'), "key 'measures[0] (e1).commodities[0]': no lane carries electricity out of US"),
    ("unknown_crossing", HEAD + S1.replace('"ambassador"', '"bogus"'), "key 'measures[0] (s1).crossings[0]': unknown crossing"),
    ("slowdown_on_pipeline", HEAD + S1.replace('"ambassador"', '"line5"'), "key 'measures[0] (s1).crossings[0]': a slowdown needs a road or rail crossing; line5 is pipeline"),
    ("closure_on_wire", HEAD + C1.replace('"ambassador"', '"niagara_wire"'), "key 'measures[0] (c1).crossings[0]': a closure needs a road or rail crossing"),
    ("outage_on_road", HEAD + O1.replace('"line5"', '"ambassador"'), "key 'measures[0] (o1).crossings[0]': an outage needs a pipeline or wire or rail crossing"),
    ("outage_without_target", HEAD + O1.replace('crossings = ["line5"]\n', ""), "key 'measures[0] (o1).crossings': an outage needs crossings or lanes"),
    ("unknown_site", HEAD + PS1.replace('"us_assembly"', '"nowhere"'), "key 'measures[0] (ps1).sites[0]': unknown site"),
    ("port_strike_on_plant", HEAD + P1.replace('"ca_port"', '"us_assembly"'), "key 'measures[0] (p1).sites[0]': a port_strike needs a port site"),
    ("shutdown_of_market", HEAD + PS1.replace('"us_assembly"', '"us_market"'), "key 'measures[0] (ps1).sites[0]': a plant_shutdown needs a plant or source site"),
    ("demand_shock_on_plant", HEAD + D1.replace('"ca_market"', '"us_assembly"'), "key 'measures[0] (d1).sites[0]': a demand_shock needs a market site"),
    ("boycott_of_own_goods", HEAD + D1.replace('origin = "US"', 'origin = "CA"'), "key 'measures[0] (d1).origin': is the country of market ca_market itself"),
    ("unknown_lane", HEAD + L1.replace('"vehicles_nb"', '"nope"'), "key 'measures[0] (l1).lanes[0]': unknown lane"),
    ("lane_open_below_base_flow", HEAD + L1.replace("capacity = 80.0", "capacity = 30.0"), "key 'measures[0] (l1).lanes[0]': vehicles_nb already carries 40/day: lane_open raises a lane"),
    ("lane_open_overseas_below_base_flow", HEAD + L1.replace('"vehicles_nb"', '"crude_asia"'), "key 'measures[0] (l1).lanes[0]': crude_asia already carries 300/day: lane_open raises a lane"),
    # countries
    ("imposer_not_us_ca", HEAD + T1.replace('imposer = "US"', 'imposer = "MX"'), "key 'measures[0] (t1).imposer': must be \"US\" or \"CA\""),
    ("imposer_is_origin", HEAD + T1.replace('origin = "CA"', 'origin = "US"'), "key 'measures[0] (t1).origin': must differ from imposer"),
    ("origin_unknown", HEAD + T1.replace('origin = "CA"', 'origin = "EU"'), "key 'measures[0] (t1).origin': must be US or CA"),
    ("content_basis_of_other_country", HEAD + T1.replace("rate = 0.25", 'rate = 0.25\ncontent_basis = "non_ca"\ndomestic_content = 0.4'), "key 'measures[0] (t1).content_basis': must be \"non_us\""),
    ("domestic_content_without_basis", HEAD + T1.replace("rate = 0.25", "rate = 0.25\ndomestic_content = 0.4"), "key 'measures[0] (t1).domestic_content': applies only with content_basis"),
    ("direction_unknown", HEAD + S1.replace('"sb"', '"east"'), "key 'measures[0] (s1).direction': must be \"sb\", \"nb\" or \"both\""),
    # dates
    ("end_before_start", HEAD + C1.replace("end = 2025-02-13", "end = 2025-02-01"), "key 'measures[0] (c1).end': must be after start (2025-02-07)"),
    ("end_equals_start", HEAD + C1.replace("end = 2025-02-13", "end = 2025-02-07"), "key 'measures[0] (c1).end': must be after start"),
    ("announce_after_start", HEAD + T1.replace("start = 2025-03-04", "start = 2025-03-04\nannounce = 2025-03-05"), "key 'measures[0] (t1).announce': must be on or before start"),
    ("start_before_scenario", HEAD + T1.replace("start = 2025-03-04", "start = 2024-12-01"), "key 'measures[0] (t1).start': date outside the scenario (2025-01-01 .. 2027-01-01)"),
    ("end_after_horizon", HEAD + "horizon_days = 365\n" + S1, "key 'measures[0] (s1).end': date outside the scenario (2025-01-01 .. 2026-01-01)"),
    ("announce_before_scenario", HEAD + T1.replace("start = 2025-03-04", "start = 2025-03-04\nannounce = 2024-11-25"), "key 'measures[0] (t1).announce': date outside the scenario"),
    # numbers out of range
    ("rate_negative", HEAD + T1.replace("rate = 0.25", "rate = -0.1"), "key 'measures[0] (t1).rate': must be a rate in 0..5"),
    ("rate_absurd", HEAD + T1.replace("rate = 0.25", "rate = 25"), "key 'measures[0] (t1).rate': must be a rate in 0..5 (0..500 %)"),
    ("levy_rate_absurd", HEAD + E1.replace("rate = 0.25", "rate = 6.0"), "key 'measures[0] (e1).rate': must be a rate in 0..5"),
    ("exempt_share_above_1", HEAD + T1.replace("rate = 0.25", "rate = 0.25\nexempt_share = 1.5"), "key 'measures[0] (t1).exempt_share': must be a share in 0..1"),
    ("secondary_share_negative", HEAD + S1.replace("secondary_share = 0.1", "secondary_share = -0.1"), "key 'measures[0] (s1).secondary_share': must be a share in 0..1"),
    ("slowdown_capacity_zero", HEAD + S1.replace("capacity_factor = 0.6", "capacity_factor = 0.0"), "key 'measures[0] (s1).capacity_factor': must be a factor in 0 < f <= 1"),
    ("inspection_factor_below_1", HEAD + S1.replace("inspection_factor = 3.0", "inspection_factor = 0.5"), "key 'measures[0] (s1).inspection_factor': must be a factor in 1..100"),
    ("secondary_hours_negative", HEAD + S1.replace("secondary_hours = 2.0", "secondary_hours = -1"), "key 'measures[0] (s1).secondary_hours': must be hours in 0..168"),
    ("outage_capacity_above_1", HEAD + O1.replace("capacity_factor = 0.0", "capacity_factor = 1.2"), "key 'measures[0] (o1).capacity_factor': must be a factor in 0..1"),
    ("demand_factor_above_2", HEAD + D1.replace("demand_factor = 0.8", "demand_factor = 2.5"), "key 'measures[0] (d1).demand_factor': must be a factor in 0..2"),
    ("recovery_days_negative", HEAD + P1.replace("recovery_days = 14", "recovery_days = -3"), "key 'measures[0] (p1).recovery_days': must be days in 0..36,500"),
    ("lane_open_capacity_zero", HEAD + L1.replace("capacity = 80.0", "capacity = 0"), "key 'measures[0] (l1).capacity': must be a capacity per day in 0 < c <= 1e12"),
    ("lane_open_capacity_negative", HEAD + L1.replace("capacity = 80.0", "capacity = -10.0"), "key 'measures[0] (l1).capacity': must be a capacity per day in 0 < c <= 1e12"),
    ("lane_open_without_capacity", HEAD + L1.replace("capacity = 80.0\n", ""), "key 'measures[0] (l1).capacity': required for kind 'lane_open'"),
    ("ramp_days_negative", HEAD + L1.replace("ramp_days = 0", "ramp_days = -1"), "key 'measures[0] (l1).ramp_days': must be days in 0..36,500"),
    ("inspection_factor_huge", HEAD + S1.replace("inspection_factor = 3.0", "inspection_factor = 1e9"), "key 'measures[0] (s1).inspection_factor': must be a factor in 1..100"),
    ("secondary_hours_week_plus", HEAD + S1.replace("secondary_hours = 2.0", "secondary_hours = 1000"), "key 'measures[0] (s1).secondary_hours': must be hours in 0..168"),
    ("recovery_days_huge", HEAD + P1.replace("recovery_days = 14", "recovery_days = 1e7"), "key 'measures[0] (p1).recovery_days': must be days in 0..36,500"),
    ("lane_open_capacity_huge", HEAD + L1.replace("capacity = 80.0", "capacity = 1e300"), "key 'measures[0] (l1).capacity': must be a capacity per day in 0 < c <= 1e12"),
    ("ramp_days_huge", HEAD + L1.replace("ramp_days = 0", "ramp_days = 1e9"), "key 'measures[0] (l1).ramp_days': must be days in 0..36,500"),
    # stacking
    (
        "stack_group_same_precedence",
        HEAD
        + T1.replace("rate = 0.25", 'rate = 0.25\nstack_group = "g"')
        + T1.replace('"t1"', '"t2"').replace("rate = 0.25", 'rate = 0.35\nstack_group = "g"'),
        "key 'measures[1] (t2).precedence': same stack_group 'g' and precedence as measures[0] (t1)",
    ),
    (
        "stack_group_mixes_imposers",
        HEAD
        + T1.replace("rate = 0.25", 'rate = 0.25\nstack_group = "g"')
        + E1.replace("rate = 0.25", 'rate = 0.25\nstack_group = "g"\nprecedence = 2'),
        "key 'measures[1] (e1).stack_group': measures of stack_group 'g' must share kind and imposer",
    ),
    # extends
    ("extends_cycle", {"a.toml": HEAD + 'extends = "b.toml"\n', "b.toml": HEAD + 'extends = "a.toml"\n'}, "key 'extends': extends cycle: "),
    ("extends_self", {"a.toml": HEAD + 'extends = "a.toml"\n'}, "key 'extends': extends cycle: "),
    ("extends_not_found", HEAD + 'extends = "missing_parent"\n', "key 'extends': no such file"),
    ("extends_not_string", HEAD + "extends = 3\n", "key 'extends': must be a scenario name or file path"),
    ("drop_unknown_id", {"c.toml": 'extends = "p.toml"\n[[measures]]\nid = "zz"\ndrop = true\n', "p.toml": HEAD + T1}, "key 'measures (zz).drop': drop = true needs a measure with this id"),
    ("drop_with_other_keys", {"c.toml": 'extends = "p.toml"\n[[measures]]\nid = "t1"\ndrop = true\nrate = 0.1\n', "p.toml": HEAD + T1}, "key 'measures (t1).drop': a measure with drop = true takes no other keys"),
    ("child_makes_parent_measure_bad", {"c.toml": 'extends = "p.toml"\n[[measures]]\nid = "t1"\nrate = 9.0\n', "p.toml": HEAD + T1}, "key 'measures[0] (t1).rate': must be a rate in 0..5"),
]  # fmt: skip


def _write(tmp_path: Path, text: str | dict[str, str]) -> Path:
    files = {"bad.toml": text} if isinstance(text, str) else text
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    return tmp_path / next(iter(files))


@pytest.mark.parametrize(("text", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | dict[str, str], expect: str
) -> None:
    path = _write(tmp_path, text)
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 2, out
    assert "Traceback" not in out + err
    assert expect in out, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines and all(ln.startswith(str(tmp_path)) for ln in lines), out
    assert str(path) in out  # the validated file is named (a cycle names it in the chain)


def test_case_count_and_rule_coverage() -> None:
    assert len(CASES) >= 22
    assert len({c[0] for c in CASES}) == len(CASES)


def test_valid_file_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, VALID)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_every_problem_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD
        + "horizon_days = 0\n[costs]\nfuel = 1\n"
        + T1.replace("rate = 0.25", "rate = -1")
        + S1.replace('"ambassador"', '"line5"')
        + L1.replace('"vehicles_nb"', '"nope"')
    )
    path = _write(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    for key in ("horizon_days", "costs.fuel", "(t1).rate", "(s1).crossings[0]", "(l1).lanes[0]"):
        assert key in out
    assert len(out.splitlines()) == 5


def test_broken_network_is_one_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = tmp_path / "net"
    shutil.copytree(TINY, net)
    (net / "lanes.csv").write_text("id,from\nx,nowhere\n", encoding="utf-8")
    path = _write(tmp_path, 'network = "net"\n' + T1)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert "key 'network': network" in out[0] and str(net) in out[0] and "does not load" in out[0]


def test_network_relative_to_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(TINY, tmp_path / "net")
    path = _write(tmp_path, 'network = "net"\n' + T1)
    assert main(["validate", str(path)]) == 0, capsys.readouterr().out


def test_builtin_scenario_files_validate(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (ROOT / "experiments" / "scenarios").glob("*.toml"))
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_command_line_prints_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + T1.replace("rate = 0.25", "rate = 25"))
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{path}: key 'measures[0] (t1).rate'" in proc.stdout
