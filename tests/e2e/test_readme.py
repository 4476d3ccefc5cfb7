"""The README's commands, literally and in order, against a running `atomesh dev`: the quick start
(apply the example agents, run issue-triage, request changes on its pull request) and then the
mesh section, which ends with every run of the mesh's execution merged and Succeeded.

Every ```sh block runs as written, in one shell session (exported variables carry over from block
to block), from a directory laid out like a clone (`agents/`, `.venv/`). An HTML comment right
before a fence, invisible to readers, tells this test what a block needs:

    <!-- readme-test: skip (why) -->     not run here (the reason says where it is tested instead)
    <!-- readme-test: stack (why) -->    starts the stack: the test starts `atomesh dev` itself, with
                                         its own --kubeconfig in its temporary directory
    <!-- readme-test: until TEXT -->     never ends by itself (a watch): runs until its output shows
                                         TEXT, then gets SIGINT, as a reader presses Ctrl-C
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.anthropic import NODE_BIN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
BLOCK_SECONDS = 240.0
STACK_SECONDS = 90.0
MESH = "triage-fix-release"

_FENCE = re.compile(
    r"^(?:<!-- readme-test: (?P<directive>\w+)(?: (?P<argument>.*?))? -->\n)?```sh\n(?P<code>.*?)^```$", re.M | re.S
)
DIRECTIVES = ("skip", "stack", "until")
NODE_PHASE_AND_REVIEW = (
    r"jsonpath={range .items[*]}{.metadata.labels.atomesh\.io/mesh-node} {.status.phase} {.status.review.state}"
    r"{'\n'}{end}"
)


@dataclass(frozen=True)
class Block:
    line: int  # of the fence, 1-based, for messages
    code: str
    directive: str | None = None
    argument: str = ""


def shell_blocks(text: str) -> list[Block]:
    """Every ```sh block of `text` with the directive of the comment right before it, if any."""
    return [
        Block(text.count("\n", 0, found.start("code")), found["code"], found["directive"], found["argument"] or "")
        for found in _FENCE.finditer(text)
    ]


def test_shell_blocks_and_their_directives() -> None:
    text = "x\n```sh\necho a\n```\n<!-- readme-test: until Ready -->\n```sh\nwatch\n```\n```\nnot sh\n```\n"
    assert shell_blocks(text) == [Block(2, "echo a\n"), Block(6, "watch\n", "until", "Ready")]


def test_every_directive_of_the_readme_is_known() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert [b for b in blocks if b.directive not in (None, *DIRECTIVES)] == []
    assert [b.directive for b in blocks].count("stack") == 1, "one block starts the stack the others use"
    assert all(b.argument for b in blocks if b.directive is not None), "every directive says why or until what"


class Output:
    """A process's output lines, read in the background (so a full pipe never stalls it)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.lines)):
                return True
            if self._process.poll() is not None:
                self._thread.join(5)
                return any(text in line for line in self.lines)
            time.sleep(0.1)
        return False

    def text(self) -> str:
        self._thread.join(5)
        return "".join(self.lines)


def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], Output]:
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    return process, Output(process)


def stop_group(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A directory that looks like the repository for what the README uses: agents/ and .venv/."""
    (tmp_path / "agents").symlink_to(REPO_ROOT / "agents")
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")
    (tmp_path / "tmp").mkdir()
    return tmp_path


@pytest.fixture
def stack(clone: Path) -> Iterator[Output]:
    """`atomesh dev` (what the README's stack block runs), with the clone's own kubeconfig."""
    # `make dev` puts the harness CLIs on PATH: the example agents run Claude Code.
    path = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "TMPDIR": str(clone / "tmp"), "PATH": path}
    argv = [sys.executable, "-m", "atomesh", "dev", "--kubeconfig", str(clone / ".atomesh" / "kubeconfig")]
    process, output = spawn(argv, clone, env)
    try:
        assert output.wait_for("Stop with Ctrl-C.", STACK_SECONDS), f"atomesh dev did not come up:\n{output.text()}"
        yield output
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in its terminal
        process.wait(timeout=STACK_SECONDS)
        text = output.text()
        assert process.returncode == 130, text
        told = text.split("Stop with Ctrl-C.\n", 1)[1].splitlines()
        assert [line for line in told if not line.startswith(("run ", "mesh "))] == ["stopping", "stopped"], text
    finally:
        stop_group(process)


def run_block(block: Block, clone: Path, env: dict[str, str]) -> str:
    """The block in bash, in the session so far (`state` holds its exported variables); its output."""
    state = clone / ".readme-session"
    state.touch()
    script = f"set -eo pipefail\nsource {state}\n{block.code}"
    if block.directive != "until":
        script += f"export -p > {state}\n"
    process, output = spawn(["bash", "-c", script], clone, env)
    try:
        if block.directive == "until":
            shown = output.wait_for(block.argument, BLOCK_SECONDS)
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
            assert shown, f"README line {block.line}: {block.argument!r} never showed:\n{output.text()}"
            return output.text()
        try:
            process.wait(timeout=BLOCK_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"README line {block.line} still runs after {BLOCK_SECONDS:g} s:\n{output.text()}")
        assert process.returncode == 0, f"README line {block.line} failed ({process.returncode}):\n{output.text()}"
        return output.text()
    finally:
        stop_group(process)


def test_the_readme_works_in_order(clone: Path, stack: Output) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    started = next(i for i, block in enumerate(blocks) if block.directive == "stack")
    env = {key: value for key, value in os.environ.items() if key not in ("KUBECONFIG", "VIRTUAL_ENV")}
    env["TMPDIR"] = str(clone / "tmp")
    ran = []
    for block in blocks[started + 1 :]:
        if block.directive == "skip":
            continue
        ran.append(run_block(block, clone, env))
    assert len(ran) >= 4, "the quick start and the mesh section ran"

    # The mesh's execution ended merged: every node's run Succeeded with its pull request merged.
    kubectl = [str(clone / ".venv" / "bin" / "kubectl"), "--kubeconfig", str(clone / ".atomesh" / "kubeconfig")]
    listing = subprocess.run(
        [
            *kubectl,
            "get",
            "agr",
            "-l",
            f"atomesh.io/mesh={MESH}",
            "-o",
            NODE_PHASE_AND_REVIEW,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split("\n")
    assert sorted(line for line in listing if line) == [
        "fix Succeeded merged",
        "release-notes Succeeded merged",
        "triage Succeeded merged",
    ]
    # What the stack narrated meanwhile, from the quick start's change request to the mesh's last edge.
    narration = stack.text()
    assert re.search(r"changes requested by reviewer; revision issue-triage-\w+-r1 addresses them  http", narration)
    assert f"{MESH}: edge triage->fix fired after triage-" in narration
    assert f"{MESH}: edge fix->release-notes fired after " in narration
