"""`atomesh runner checkout|agent|build|publish`: one step of a runner pod, configured by the pod's environment."""

from __future__ import annotations

import argparse
import os
import signal
from types import FrameType

from atomesh.api import constants as k

EXIT_TERMINATED = 128 + signal.SIGTERM


def _terminated(signum: int, frame: FrameType | None) -> None:
    # The step is its container's PID 1, which the kernel spares a SIGTERM it has no handler for: without
    # this, deleting a run's pod waits out the whole grace period. SystemExit unwinds the step, so the
    # harness's own process group (a session of its own, out of reach of the container's) is killed.
    raise SystemExit(EXIT_TERMINATED)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step", choices=k.RUNNER_STEPS, help="the step to run")


def run(args: argparse.Namespace) -> int:
    from atomesh.runner.main import run_step

    signal.signal(signal.SIGTERM, _terminated)
    return run_step(args.step, os.environ)
