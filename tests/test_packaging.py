"""The wheel: built from this tree, installed into a fresh venv, run from a folder outside the repo.

The venv gets the wheel through pip (so the ``borderflow`` console script is the real one) and
borrows the third-party dependencies from the test's own environment through a ``.pth`` line; that
line adds the folder to ``sys.path`` without running the editable-install hook kept there, so
``sim`` can only come from the wheel. The venv sits inside an unrelated git repository, as a
project's ``.venv`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SCENARIOS = sorted(p.stem for p in (ROOT / "experiments" / "scenarios").glob("*.toml"))


def test_wheel_packages_name_every_package_and_network() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    code = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    networks = {
        f"sim._data.networks.{d.name}"
        for d in (ROOT / "networks").iterdir()
        if d.is_dir() and any(d.glob("*.csv"))
    }
    data = {"sim._data.networks", "sim._data.experiments.scenarios"}
    assert listed == code | networks | data


def test_a_checkout_finds_its_own_folders() -> None:
    from sim.io import paths

    assert not paths.PACKAGED.exists()  # the data package exists only inside a built wheel
    assert paths.ROOT == ROOT
    assert sorted(paths.builtin_scenarios()) == SCENARIOS


def test_borderflow_home_overrides_where_builtins_live(tmp_path: Path) -> None:
    (tmp_path / "experiments" / "scenarios").mkdir(parents=True)
    shutil.copy(
        ROOT / "experiments" / "scenarios" / "baseline.toml",
        tmp_path / "experiments" / "scenarios" / "mine.toml",
    )
    code = "import sim, sim.io.paths as p; print(p.ROOT); print(*sim.builtin_scenarios())"
    env = {**os.environ, "BORDERFLOW_HOME": str(tmp_path)}
    out = _run([sys.executable, "-c", code], tmp_path, env).stdout.splitlines()
    assert out == [str(tmp_path), "mine"]


def _run(
    argv: list[str | Path], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{argv}\n{proc.stdout}\n{proc.stderr}"
    return proc


_NOT_BUILT = (".git", ".venv", "results", "build", "dist", "*.egg-info", "__pycache__", ".*cache")
_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    """Build the wheel offline from a copy of the checkout (no build/ or egg-info left in it)."""
    src, dist = tmp / "src", tmp / "dist"
    ignore = shutil.ignore_patterns(*_NOT_BUILT, ".hypothesis", "tests", "benchmarks")
    shutil.copytree(ROOT, src, ignore=ignore)
    argv = [*_PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src]
    _run(argv, tmp, env)
    (wheel,) = dist.glob("borderflow-*.whl")
    return wheel


def _bare_venv(venv: Path, env: dict[str, str]) -> Path:
    """A venv without pip whose site-packages borrows this environment's dependencies."""
    _run([sys.executable, "-m", "venv", "--without-pip", venv], venv.parent, env)
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([venv / "bin" / "python", "-c", code], venv.parent, env).stdout.strip())
    deps = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site / "borderflow_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    return site


class Installed:
    """The wheel installed by pip into a venv inside another git repository; a folder to run in."""

    def __init__(self, tmp: Path) -> None:
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BORDERFLOW_HOME")
        }
        wheel = _build_wheel(tmp, self.env)
        project = tmp / "project"  # some other git repository, with the venv inside it
        project.mkdir()
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
        _run([*git, "init", "-q"], project, self.env)
        _run([*git, "commit", "-q", "--allow-empty", "-m", "init"], project, self.env)
        venv = project / ".venv"
        self.site = _bare_venv(venv, self.env)
        self.python = venv / "bin" / "python"
        install = [*_PIP, "--python", self.python, "install", "--no-deps", "--no-index", wheel]
        _run(install, tmp, self.env)
        self.borderflow = venv / "bin" / "borderflow"
        self.elsewhere = tmp / "elsewhere"
        self.elsewhere.mkdir()

    def run(self, *argv: str | Path) -> str:
        return _run([self.borderflow, *argv], self.elsewhere, self.env).stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return Installed(tmp_path_factory.mktemp("wheel"))


@pytest.mark.slow
def test_wheel_carries_the_code_and_the_builtin_data(installed: Installed) -> None:
    code = (
        "import sim, sim.io.paths as p; print(sim.__file__); print(p.ROOT); print(sim.__version__)"
    )
    out = _run([installed.python, "-c", code], installed.elsewhere, installed.env).stdout
    file, root, version = out.splitlines()
    assert Path(file) == installed.site / "sim" / "__init__.py"  # not the checkout
    assert Path(root) == installed.site / "sim" / "_data"
    assert version == PYPROJECT["project"]["version"]
    for rel in ("networks", "experiments/scenarios"):
        packaged = sorted(p.relative_to(Path(root) / rel) for p in (Path(root) / rel).rglob("*.*"))
        tracked = subprocess.run(
            ["git", "ls-files", rel], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        wanted = [Path(t).relative_to(rel) for t in tracked if not t.endswith(".py")]
        assert packaged == sorted(wanted), rel
        for p in wanted:
            assert (Path(root) / rel / p).read_bytes() == (ROOT / rel / p).read_bytes()


@pytest.mark.slow
def test_installed_command_runs_from_another_folder(installed: Installed, tmp_path: Path) -> None:
    version = PYPROJECT["project"]["version"]
    assert installed.run("--version") == f"borderflow {version}\n"
    listed = [line.split()[0] for line in installed.run("scenarios").splitlines()]
    assert listed == SCENARIOS
    installed.run("run", "baseline", "--days", "30", "--seed", "3", "--out", "out", "--quiet")
    out = installed.elsewhere / "out"
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert Path(man["scenario"]["file"]).is_relative_to(installed.site)
    assert man["git_revision"] is None  # the wheel is not the project's git checkout

    ref = tmp_path / "ref"  # the same run from this checkout
    assert (
        main(["run", "baseline", "--days", "30", "--seed", "3", "--out", str(ref), "--quiet"]) == 0
    )
    ref_man = json.loads((ref / "manifest.json").read_text(encoding="utf-8"))
    ident = {k: v for k, v in man["identity"].items() if k != "git_revision"}
    assert ident == {k: v for k, v in ref_man["identity"].items() if k != "git_revision"}
    got, want = (pd.read_parquet(d / "kpis.parquet").drop(columns="wall_s") for d in (out, ref))
    pd.testing.assert_frame_equal(got, want)
