"""Generated garbage for both loaders and the command line: exit 0 or 2 with a message, never a traceback.

Hypothesis writes broken network cells, broken scenario TOML and odd argument vectors; whatever it
writes, ``borderflow`` must answer with exit 0 or 2 (never 1, the internal-fault status) and say why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"
FILES = sorted(p.name for p in TINY.glob("*.csv"))

_SETTINGS = settings(
    max_examples=int(os.environ.get("GARBAGE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# cells a spreadsheet user (or an attacker) might type
_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "nan", "inf", "-inf", "1e400", "-1", "0", "1e308", '"', '""', ",", "\r", "\n", "\ufeff",
         "\x00", "1,5", "０", "NaN", "true", "ambassador", "us_market", "truck"]
    ),
)  # fmt: skip


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    cap = capsys.readouterr()
    text = cap.out + cap.err
    assert "Traceback" not in text
    assert code in (0, 2), (argv, code, text)
    if code == 2:
        assert text.strip(), argv
    return code, text


@_SETTINGS
@given(
    fname=st.sampled_from(FILES),
    row=st.integers(0, 4),
    col=st.integers(0, 12),
    value=_CELL,
    raw=st.booleans(),
)
def test_validate_survives_any_network_cell(
    capsys: pytest.CaptureFixture[str], fname: str, row: int, col: int, value: str, raw: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "net"
        shutil.copytree(TINY, d)
        lines = (d / fname).read_text(encoding="utf-8").splitlines()
        r = min(row, len(lines) - 1)
        cells = lines[r].split(",")
        c = min(col, len(cells) - 1)
        if raw:  # written as typed, unquoted: may break the CSV structure itself
            cells[c] = value
        else:
            cells[c] = '"' + value.replace('"', '""') + '"'
        lines[r] = ",".join(cells)
        (d / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
        _run(["validate", str(d)], capsys)


_TOML_VALUE = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x).replace("inf", "inf")),
    st.sampled_from(
        ['"x"', "true", "[]", "{}", "0001-01-01", "9999-12-31", "2025-02-30", "1979-05-27T07:32:00",
         '["a", 1]', "nan", "-inf", "2025-06-01", '"north_america"', '"../../etc"', '"/etc"']
    ),
).map(str)  # fmt: skip
_KEYS = st.sampled_from(
    ["name", "description", "network", "start", "horizon_days", "extends", "costs.truck_hour_usd",
     "market.switch_logit", "market.pass_through", "measures", "zzz"]
)  # fmt: skip
_MEASURE_KEYS = st.sampled_from(
    ["id", "kind", "start", "end", "rate", "imposer", "crossings", "capacity_factor", "sites",
     "demand_factor", "ramp_days", "lanes", "capacity", "precedence", "stack_group", "announce"]
)  # fmt: skip


@_SETTINGS
@given(
    top=st.lists(st.tuples(_KEYS, _TOML_VALUE), max_size=4),
    mes=st.lists(st.lists(st.tuples(_MEASURE_KEYS, _TOML_VALUE), max_size=5), max_size=2),
)
def test_validate_survives_any_scenario(
    capsys: pytest.CaptureFixture[str],
    top: list[tuple[str, str]],
    mes: list[list[tuple[str, str]]],
) -> None:
    lines = [f'network = "{TINY.as_posix()}"']
    tables: dict[str, list[str]] = {}
    for k, v in dict(top).items():
        if "." in k:
            t, _, kk = k.partition(".")
            tables.setdefault(t, []).append(f"{kk} = {v}")
        else:
            lines.insert(0, f"{k} = {v}")
    for t, body in tables.items():
        lines += [f"[{t}]", *body]
    for m in mes:
        lines.append("[[measures]]")
        lines += [f"{k} = {v}" for k, v in dict(m).items()]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.toml"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _run(["validate", str(p)], capsys)


@_SETTINGS
@given(text=st.text(max_size=200))
def test_validate_survives_any_text_as_scenario(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.toml"
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        _run(["validate", str(p)], capsys)


_TOKENS = st.sampled_from(
    ["run", "compare", "sweep", "validate", "scenarios", "network", "--reps", "--seed", "--days",
     "--workers", "--scheduler", "--out", "--resume", "--overwrite", "--quiet", "--set", "-1", "0",
     "1e9", "nan", "99999999999999999999999", "no_such_scenario", "/dev/null", "", "=", "x=1,2",
     "measures.x.rate=0.1", "tcp://", "local", "--allow-outside", "lanes", "crossings", "--help"]
)  # fmt: skip


@_SETTINGS
@given(argv=st.lists(st.one_of(_TOKENS, st.text(max_size=6)), max_size=7))
def test_cli_survives_any_argument_vector(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    if "--help" in argv or "-h" in argv:
        argv = [a for a in argv if a not in ("--help", "-h")]
    # never start a real batch: every scenario named here is garbage or missing, so loading fails
    if "local" in argv:
        argv = [a for a in argv if a != "local"]
    _run(argv, capsys)


def test_internal_fault_is_one_line_exit_1_and_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.cli

    def boom(args: object) -> int:
        raise ZeroDivisionError("division by zero in a kernel")

    monkeypatch.setattr(sim.cli, "_cmd_scenarios", boom)
    assert main(["scenarios"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error: ZeroDivisionError: division by zero in a kernel" in err
    assert "--debug" in err
    assert main(["scenarios", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("kernel")


@pytest.mark.parametrize(
    ("exc", "needle"),
    [
        (PermissionError(13, "Permission denied", "/root/x"), "Permission denied: /root/x"),
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (MemoryError(), "out of memory"),
        (IsADirectoryError(21, "Is a directory", "/tmp"), "Is a directory: /tmp"),
    ],
)
def test_bad_input_exceptions_are_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    needle: str,
) -> None:
    import sim.cli

    def boom(args: object) -> int:
        raise exc

    monkeypatch.setattr(sim.cli, "_cmd_scenarios", boom)
    assert main(["scenarios"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
