"""`atomesh lint PATH...`: exit 0 when every atomesh manifest is valid, 1 on errors, 2 on bad usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from atomesh.lint import lint_paths, manifest_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="YAML files or folders (recursive)")


def run(args: argparse.Namespace) -> int:
    try:
        files = manifest_files(args.paths)
        findings = lint_paths(files)
    except FileNotFoundError as error:
        print(f"atomesh lint: {error}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"atomesh lint: cannot read: {error}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} error(s) in {len({f.file for f in findings})} file(s)", file=sys.stderr)
        return 1
    return 0
