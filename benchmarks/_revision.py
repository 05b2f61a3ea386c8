"""Run a benchmark against another revision of Borderflow: a temporary git worktree of it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A temporary worktree of revision ``rev`` of this repository, removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "rev"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=False, capture_output=True,
            )  # fmt: skip


def run_probe(script: str, tree: Path, *args: str) -> Any:
    """Run ``script`` (``python -c``) in a fresh process on the checkout ``tree`` (its code and its
    data: ``sys.argv[1]`` is the tree, then ``args``) and return the JSON it prints."""
    cmd = [sys.executable, "-c", script, str(tree), *args]
    env = {**os.environ, "BORDERFLOW_HOME": str(tree)}
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=tree)
    return json.loads(done.stdout)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of a benchmark that measures one replication, here and at ``--against REV``."""
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds with --against")
    ap.add_argument("--against", default=None, help="git revision to compare with")
