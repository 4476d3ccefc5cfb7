"""A scripted multi-file change every harness must make, and a git repository to make it in."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import git
from tests.fixtures.anthropic import NODE_BIN

TURN_USAGE = {"input_tokens": 1000, "output_tokens": 50}
GUIDE = "# Guide\n\nHow to use the app.\n"
UTIL = 'def shout(text: str) -> str:\n    return text.upper() + "!"\n'

# Generic tool names: the emulator spells them the way each harness does.
MULTI_FILE_CHANGE: dict[str, Any] = {
    "turns": [
        {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": GUIDE}}], "usage": TURN_USAGE},
        {"tools": [{"tool": "write_file", "input": {"path": "src/app/util.py", "content": UTIL}}], "usage": TURN_USAGE},
        {"tools": [{"tool": "read_file", "input": {"path": "README.md"}}], "usage": TURN_USAGE},
        {
            "tools": [{"tool": "edit_file", "input": {"path": "README.md", "old": "hello", "new": "hello, world"}}],
            "usage": TURN_USAGE,
        },
        {"text": "Added a guide and a helper; greeted the world.", "usage": TURN_USAGE},
    ]
}
TURNS = 5
INPUT_TOKENS = TURNS * TURN_USAGE["input_tokens"]
OUTPUT_TOKENS = TURNS * TURN_USAGE["output_tokens"]
# claude-sonnet-4-5 at $3 per million input and $15 per million output tokens.
SONNET_COST = INPUT_TOKENS * 3e-6 + OUTPUT_TOKENS * 15e-6


def make_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    (path / "README.md").write_text("hello\n")
    repo.index.add(["README.md"])
    actor = git.Actor("test", "test@example.com")
    repo.index.commit("initial", author=actor, committer=actor)
    return repo


def changed(repo: git.Repo) -> dict[str, str]:
    """path → status letter of everything changed in the working tree, new files included."""
    repo.git.add("--all")
    lines = repo.git.diff("--cached", "--name-status").splitlines()
    return {line.split("\t")[1]: line.split("\t")[0] for line in lines}


def assert_multi_file_change(repo: git.Repo) -> None:
    root = Path(str(repo.working_dir))
    assert changed(repo) == {"README.md": "M", "docs/guide.md": "A", "src/app/util.py": "A"}
    assert (root / "README.md").read_text() == "hello, world\n"
    assert (root / "docs/guide.md").read_text() == GUIDE
    assert (root / "src/app/util.py").read_text() == UTIL


def harness_env() -> dict[str, str]:
    """The test process's environment with the pinned harness CLIs on PATH."""
    return dict(os.environ, PATH=f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def processes_running(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, patience: float = 10.0) -> bool:
    """True once no process carries `marker` (SIGKILLed processes take a moment to disappear)."""
    deadline = time.monotonic() + patience
    while processes_running(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
