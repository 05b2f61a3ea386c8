"""The ``borderflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sim.errors import SimError


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.network import load_network

    problems: list[str] = []
    for path in args.paths:
        try:
            if os.path.isdir(path):
                load_network(path)
            else:
                from sim.scenario import load_scenario

                load_scenario(path)
        except SimError as exc:
            probs = getattr(exc, "problems", None)
            problems.extend(str(p) for p in probs) if probs else problems.append(str(exc))
    if problems:
        for line in problems:
            print(line)
        return 2
    print("ok")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="borderflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check network folders and scenario files")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=_cmd_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
