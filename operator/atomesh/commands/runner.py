"""`atomesh runner checkout|agent|publish`: one step of a runner pod, configured by the pod's environment."""

from __future__ import annotations

import argparse
import os

from atomesh.api import constants as k


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step", choices=k.RUNNER_STEPS, help="the step to run")


def run(args: argparse.Namespace) -> int:
    from atomesh.runner.main import run_step

    return run_step(args.step, os.environ)
