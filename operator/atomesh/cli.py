"""The `atomesh` command. Each subcommand lives in `atomesh.commands.<name>` and exposes
`add_arguments(parser)` and `run(args) -> int`; they are imported only when used, so
`atomesh lint` starts fast and does not load kopf or the harnesses."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from atomesh import __version__

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "console": ("atomesh.commands.console", "serve the web console with your kubeconfig"),
    "crds": ("atomesh.commands.crds", "write or check the generated CRDs"),
    "lint": ("atomesh.commands.lint", "validate Agent, Mesh and AgentRun manifests offline"),
    "dev": ("atomesh.commands.dev", "run the embedded development stack"),
    "operator": ("atomesh.commands.operator", "run the operator"),
    "runner": ("atomesh.commands.runner", "run one step of a runner pod"),
    "test": ("atomesh.commands.test", "run agent test cases offline against a scripted or recorded model"),
    "model-proxy": ("atomesh.commands.model_proxy", "run a runner pod's model proxy (holds the model key)"),
    "status": ("atomesh.commands.status", "show the review queue, attention list and fleet"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atomesh", description="AI agents as versioned Kubernetes infrastructure.")
    parser.add_argument("--version", action="version", version=f"atomesh {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        # Only the chosen subcommand's module is imported, to keep start-up light.
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
