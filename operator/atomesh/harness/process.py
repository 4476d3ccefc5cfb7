"""Running a harness CLI: JSON lines read as they come, a deadline, and a kill of the whole process group.

Harness CLIs start helpers (shells, language servers); killing only the parent would leave them
running in the pod, so each harness gets its own session and the group is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Called for every stdout line; returns a reason to stop the process early, or None.
LineHandler = Callable[[str], str | None]


@dataclass(frozen=True)
class ProcessOutcome:
    exit_code: int | None
    timed_out: bool
    stopped: str | None  # the reason a LineHandler gave for stopping the process
    stderr_tail: str


def json_event(line: str) -> dict[str, Any] | None:
    """One JSON-lines event of a harness CLI; None for anything else it prints."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def last_line(text: str, default: str = "no output") -> str:
    """The last non-empty line of a stderr tail, for a message that says why a CLI stopped."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else default


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), including ones that moved to their own session."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may contain spaces; the parent pid follows the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process, its group, and every descendant (Claude Code runs shells in their own sessions)."""
    tree = descendants(process.pid) if process.poll() is None else []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def run_shell(command: str, cwd: Path, env: Mapping[str, str], timeout_seconds: float) -> tuple[int | None, str]:
    """`/bin/sh -c command` in its own session, stdout and stderr together; (exit code, output).

    The exit code is None when the command ran past `timeout_seconds`; its group is killed then,
    and always afterwards, so nothing it started outlives it.
    """
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=dict(env, PWD=str(cwd)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout_seconds)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        kill_group(process)
        output, _ = process.communicate()
        return None, output
    finally:
        kill_group(process)


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float,
    on_line: LineHandler,
    stdin_text: str = "",
) -> ProcessOutcome:
    """Run `argv`, feed it `stdin_text`, hand each stdout line to `on_line`; kill on deadline or on request."""
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    stderr_lines: deque[str] = deque(maxlen=40)
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        kill_group(process)

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line.rstrip("\n"))

    def write_stdin() -> None:
        # In a thread: a large prompt must not block while the process fills stdout.
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            process.stdin.write(stdin_text)
            process.stdin.close()

    stdin_writer = threading.Thread(target=write_stdin, daemon=True)
    timer = threading.Timer(timeout_seconds, expire)
    timer.daemon = True
    stderr_reader = threading.Thread(target=read_stderr, daemon=True)
    timer.start()
    stderr_reader.start()
    stopped: str | None = None
    try:
        assert process.stdout is not None
        stdin_writer.start()
        for line in process.stdout:
            if stopped is None:
                stopped = on_line(line.rstrip("\n"))
                if stopped is not None:
                    kill_group(process)
        exit_code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            kill_group(process)
            process.wait()
        # The group may still hold helpers that inherited the pipes; do not leave them behind.
        kill_group(process)
        stderr_reader.join(5)
        stdin_writer.join(5)
    return ProcessOutcome(
        exit_code=exit_code,
        timed_out=timed_out.is_set(),
        stopped=stopped,
        stderr_tail="\n".join(stderr_lines),
    )
