"""Confined input: a scenario's ``extends`` and ``network`` resolve only inside its folder, the built-in
folders and the paths on the command line (or anywhere with ``--allow-outside``); error messages
never echo the contents of other files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.io.scenario import load_scenario
from tests.test_validate_cli import TINY

HEAD = 'name = "case"\nhorizon_days = 10\n'


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """mine/ holds the scenario under test; elsewhere/ a parent scenario, a network and a secret."""
    mine, other = tmp_path / "mine", tmp_path / "elsewhere"
    mine.mkdir()
    other.mkdir()
    shutil.copytree(TINY, other / "net")
    (other / "parent.toml").write_text(HEAD + f'network = "{TINY.as_posix()}"\n')
    (other / "secret.toml").write_text('password = hunter2 "top secret"\n')
    (other / "secret.txt").write_text("root:x:0:0:hunter2\n")
    (other / "binary.toml").write_bytes(b"\xff\xfehunter2")
    return {"mine": mine, "other": other}


def _case(d: Path, body: str) -> Path:
    p = d / "case.toml"
    p.write_text(body, encoding="utf-8")
    return p


CASES = [
    ("extends-absolute", lambda o: f'extends = "{(o / "parent.toml").as_posix()}"\n',
     "key 'extends': resolves to", True),
    ("extends-dotdot", lambda o: 'extends = "../elsewhere/parent.toml"\n',
     "key 'extends': resolves to", True),
    ("extends-dotdot-no-suffix", lambda o: 'extends = "../elsewhere/parent"\n',
     "key 'extends': resolves to", True),
    ("network-absolute", lambda o: HEAD + f'network = "{(o / "net").as_posix()}"\n',
     "key 'network': resolves to", True),
    ("network-dotdot", lambda o: HEAD + 'network = "../elsewhere/net"\n',
     "key 'network': resolves to", True),
    ("extends-not-toml", lambda o: f'extends = "{(o / "secret.txt").as_posix()}"\n',
     "key 'extends': must name a scenario file (.toml)", False),
    ("extends-etc-passwd", lambda o: 'extends = "/etc/passwd"\n',
     "key 'extends'", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expect", "outside_ok"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_references_outside_are_refused(
    layout: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    body: object,
    expect: str,
    outside_ok: bool,
) -> None:
    p = _case(layout["mine"], body(layout["other"]))  # type: ignore[operator]
    assert main(["validate", str(p)]) == 2
    out, err = capsys.readouterr()
    assert expect in out and "Traceback" not in out + err
    assert "hunter2" not in out + err and "root:" not in out + err
    assert main(["validate", str(p), "--allow-outside"]) == (0 if outside_ok else 2)
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err and "root:" not in out + err


def test_paths_on_the_command_line_are_allowed(
    layout: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    net = layout["other"] / "net"
    p = _case(layout["mine"], HEAD + f'network = "{net.as_posix()}"\n')
    assert main(["validate", str(p)]) == 2
    assert main(["validate", str(net), str(p)]) == 0  # the network folder was given too
    capsys.readouterr()


def test_a_symlink_out_of_the_folder_is_outside(
    layout: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (layout["mine"] / "net").symlink_to(layout["other"] / "net")
    p = _case(layout["mine"], HEAD + 'network = "net"\n')
    assert main(["validate", str(p)]) == 2
    assert "key 'network': resolves to" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["secret.toml", "binary.toml"])
def test_unreadable_parents_are_named_not_echoed(
    layout: dict[str, Path], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    p = _case(layout["mine"], f'extends = "{(layout["other"] / name).as_posix()}"\n')
    assert main(["validate", str(p), "--allow-outside"]) == 2
    out, err = capsys.readouterr()
    assert name in out + err and "hunter2" not in out + err and "secret" not in out.split(name)[-1]


def test_inside_the_folder_and_built_ins_load(layout: dict[str, Path]) -> None:
    shutil.copytree(TINY, layout["mine"] / "net")
    (layout["mine"] / "sub").mkdir()
    (layout["mine"] / "sub" / "p.toml").write_text(
        HEAD + 'network = "net"\n'
    )  # relative to the loaded file
    p = _case(layout["mine"], 'extends = "sub/p.toml"\nname = "c"\n')
    assert load_scenario(p).name == "c"
    q = _case(layout["mine"], 'extends = "talks_collapse"\nname = "c2"\n')
    assert load_scenario(q).network == "north_america"
