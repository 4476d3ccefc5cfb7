"""`atomesh model-proxy`: the runner pod's model proxy, configured by its container's environment."""

from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # configured by the environment, like the runner steps


def run(args: argparse.Namespace) -> int:
    del args
    from atomesh.modelproxy.main import run_proxy

    return run_proxy(os.environ)
