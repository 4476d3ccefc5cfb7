"""A runner step answers SIGTERM: it is its container's PID 1, which the kernel spares a SIGTERM it has
no handler for (so deleting the pod would wait out the grace period), and its harness runs in a session
of its own that the container's process group does not reach. On SIGTERM the step exits 143 and takes
the harness's whole group with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# A step whose harness (here: a process that records its pid and sleeps) runs as harness.process runs it.
STEP = """
import sys
from pathlib import Path
from atomesh.commands import runner
from atomesh.harness.process import run_process
import signal
signal.signal(signal.SIGTERM, runner._terminated)
harness = [sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(600)"]
pid_file = Path(sys.argv[1])
run_process(harness, Path.cwd(), {"PATH": "/usr/bin:/bin"}, 600, lambda line: pid_file.write_text(line) and None)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_sigterm_ends_the_step_with_143_and_kills_the_harness_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "harness.pid"
    step = subprocess.Popen([sys.executable, "-c", STEP, str(pid_file)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        harness = int(pid_file.read_text())
        assert alive(harness)
        step.send_signal(signal.SIGTERM)
        assert step.wait(timeout=30) == 143
        deadline = time.monotonic() + 10
        while alive(harness) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(harness), "the harness outlived its step"
    finally:
        if step.poll() is None:
            os.killpg(step.pid, signal.SIGKILL)
