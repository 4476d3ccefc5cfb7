"""The litellm loop's tools stay inside the workspace."""

from __future__ import annotations

import json
from pathlib import Path

from atomesh.harness.workspace_tools import ToolPolicy, Workspace


def call(ws: Workspace, name: str, **args: str) -> str:
    return ws.call(name, json.dumps(args), 30)


def test_file_tools_are_confined(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "outside.txt")
    ws = Workspace(root, ToolPolicy.from_allowed(()))
    assert call(ws, "write_file", path="a/b.txt", content="one two") == "wrote a/b.txt"
    assert call(ws, "edit_file", path="a/b.txt", old="two", new="three") == "edited a/b.txt"
    assert (root / "a/b.txt").read_text() == "one three"
    assert call(ws, "read_file", path="a/b.txt") == "one three"
    assert call(ws, "list_files", path=".") == "a/b.txt\nlink"
    assert "outside the workspace" in call(ws, "read_file", path="../outside.txt")
    assert "outside the workspace" in call(ws, "read_file", path="link")
    assert "outside the workspace" in call(ws, "write_file", path="/etc/passwd", content="x")
    assert "inside .git" in call(ws, "write_file", path=".git/config", content="x")
    assert "exactly once" in call(ws, "edit_file", path="a/b.txt", old="missing", new="x")
    assert "missing argument" in call(ws, "write_file", path="x")
    assert ws.changed == {"a/b.txt"}


def test_commands_follow_the_policy(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, ToolPolicy.from_allowed(("Bash(echo:*)",)), env={"PATH": "/usr/bin:/bin"})
    assert call(ws, "run_command", command="echo hi") == "exit code 0\nhi\n"
    assert "not allowed" in call(ws, "run_command", command="touch x")
    assert not (tmp_path / "x").exists()
    assert "not available" in call(ws, "write_file", path="y", content="z")
