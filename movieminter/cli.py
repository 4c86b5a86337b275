"""`movieminter` command line. Each subsystem registers its own subcommands.

A subsystem module listed in COMMAND_MODULES exposes `register(subparsers)`,
which adds parsers whose `func(args) -> int` does the work. Modules import
lazily so `movieminter --help` stays fast and a broken subsystem cannot take
the others down.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from movieminter import __version__
from movieminter.errors import MovieMinterError

COMMAND_MODULES = [
    "movieminter.manifest.cli",  # manifest validate / import-deforum / export-deforum
    "movieminter.render.cli",  # doctor, models, render
    "movieminter.media.cli",  # media encode / check / stitch / hls
    "movieminter.ipfs.cli",  # ipfs add / car / get
    "movieminter.chain.cli",  # chain, lottery verify
    "movieminter.app.cli",  # serve
    "movieminter.app.mint_cli",  # mint (headless twin of Render & Mint)
    "movieminter.app.director_cli",  # director: create movie, lottery, allowlist
    "movieminter.app.demo",  # demo (the README's main job)
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movieminter", description="Crowd-rendered AI movies.")
    parser.add_argument("--version", action="version", version=f"movieminter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # subsystem not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MovieMinterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
