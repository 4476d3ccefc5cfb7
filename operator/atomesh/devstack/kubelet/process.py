"""One container as a local process: started in its own process group (so the whole tree can
be signalled, like a container's cgroup), stdout and stderr into the container's log file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

from atomesh.devstack.kubelet.isolation import user_namespace_prefix
from atomesh.devstack.kubelet.plan import ContainerPlan

TERMINATION_MESSAGE_LIMIT = 4096
# FallbackToLogsOnError uses the end of the log: at most this many lines and bytes (as kubelets do).
FALLBACK_LINES = 80
FALLBACK_BYTES = 2048
_POLL = 0.05


class StartError(Exception):
    """The process could not be started; reported as a terminated container with exit code 128."""


def exit_code_of(returncode: int) -> int:
    """Shell convention, as container runtimes report it: killed by signal N -> 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def resolve_executable(plan: ContainerPlan) -> str:
    program = plan.argv[0]
    if "/" in program:
        return program
    found = shutil.which(program, path=plan.env.get("PATH", ""))
    if found is None:
        raise StartError(f'exec: "{program}": executable file not found in $PATH')
    return found


class ContainerProcess:
    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @property
    def pid(self) -> int:
        return self._popen.pid

    @classmethod
    def start(cls, plan: ContainerPlan) -> ContainerProcess:
        if not plan.argv:
            raise StartError("no command: the container has neither `command` nor an image entrypoint")
        prefix = user_namespace_prefix() if plan.user_namespace else ()
        argv = [*prefix, resolve_executable(plan), *plan.argv[1:]]
        plan.log_path.parent.mkdir(parents=True, exist_ok=True)
        with plan.log_path.open("ab") as log:
            try:
                popen = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(plan.env),
                    cwd=plan.cwd,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise StartError(f"failed to start {argv[0]!r} in {plan.cwd!r}: {exc.strerror or exc}") from exc
        return cls(popen)

    def poll(self) -> int | None:
        returncode = self._popen.poll()
        return None if returncode is None else exit_code_of(returncode)

    async def wait(self) -> int:
        """Exit code once the main process ends; then what is left of its group is killed,
        as a container's other processes die with its first one."""
        while True:
            code = self.poll()
            if code is not None:
                self._signal_group(signal.SIGKILL)
                return code
            await asyncio.sleep(_POLL)

    async def stop(self, grace: float) -> int:
        """SIGTERM to the group, SIGKILL after `grace` seconds; returns the exit code."""
        self._signal_group(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(grace, 0.0)
        code = self.poll()
        while code is None and loop.time() < deadline:
            await asyncio.sleep(_POLL)
            code = self.poll()
        if code is None:
            self._signal_group(signal.SIGKILL)
            code = exit_code_of(self._popen.wait())
        self._signal_group(signal.SIGKILL)
        return code

    def kill(self) -> None:
        """Immediate and synchronous: for cleanup paths that cannot await."""
        self._signal_group(signal.SIGKILL)
        self._popen.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)


def _tail(data: bytes, lines: int, limit: int) -> bytes:
    kept = b"\n".join(data.rstrip(b"\n").split(b"\n")[-lines:])
    return kept[-limit:]


def read_termination_message(plan: ContainerPlan, exit_code: int) -> str:
    """The container's termination message (at most 4096 bytes); with FallbackToLogsOnError an
    empty message on failure is replaced by the end of the log."""
    message = b""
    if plan.termination_path.is_file():
        with plan.termination_path.open("rb") as handle:
            message = handle.read(TERMINATION_MESSAGE_LIMIT)
    fallback = plan.termination_policy == "FallbackToLogsOnError"
    if not message and exit_code != 0 and fallback and plan.log_path.is_file():
        message = _tail(plan.log_path.read_bytes(), FALLBACK_LINES, FALLBACK_BYTES)
    return message.decode("utf-8", errors="replace")


def ensure_dirs(*paths: Path) -> None:
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)
