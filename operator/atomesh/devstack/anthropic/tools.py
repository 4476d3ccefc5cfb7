"""Which harness sent a request, and generic tool calls translated into that harness's tools.

A cassette may say `tool: write_file` and stay the same for every harness: the emulator
recognises the harness by the tool names in the request and emits the call the way that
harness spells it (Claude Code's Write, OpenCode's write, the litellm loop's write_file).
Claude Code and OpenCode want absolute file paths; relative ones are resolved against the
working directory their system prompt announces. Any other tool name is passed through.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

CLAUDE_CODE = "claude-code"
OPENCODE = "opencode"
LITELLM = "litellm"
UNKNOWN = "unknown"

GENERIC_TOOLS = ("write_file", "edit_file", "read_file", "list_files", "run")

_WORKDIR = re.compile(r"working directory:\s*(\S+)", re.IGNORECASE)


def detect_harness(tool_names: Iterable[str]) -> str:
    """By tool spelling; a harness may offer only some of its tools (allowedTools), so one name decides."""
    names = set(tool_names)
    if names & {"Write", "Edit", "Read", "Bash"}:
        return CLAUDE_CODE
    if names & {"write", "edit", "read", "bash"}:
        return OPENCODE
    if names & {"write_file", "edit_file", "read_file", "list_files", "run_command"}:
        return LITELLM
    return UNKNOWN


def working_directory(system_text: str, messages_text: str) -> str | None:
    """The working directory a harness announces in its prompt, if any."""
    for text in (system_text, messages_text):
        found = _WORKDIR.search(text)
        if found:
            return found.group(1)
    return None


def _abs(path: str, cwd: str | None) -> str:
    if posixpath.isabs(path) or cwd is None:
        return path
    return posixpath.join(cwd, path)


def _claude_code(name: str, args: dict[str, Any], cwd: str | None) -> tuple[str, dict[str, Any]]:
    if name == "write_file":
        return "Write", {"file_path": _abs(args["path"], cwd), "content": args["content"]}
    if name == "edit_file":
        return "Edit", {"file_path": _abs(args["path"], cwd), "old_string": args["old"], "new_string": args["new"]}
    if name == "read_file":
        return "Read", {"file_path": _abs(args["path"], cwd)}
    if name == "list_files":
        return "Bash", {"command": f"ls -R {args.get('path', '.')}", "description": "List files"}
    return "Bash", {"command": args["command"], "description": args.get("description", "Run a command")}


def _opencode(name: str, args: dict[str, Any], cwd: str | None) -> tuple[str, dict[str, Any]]:
    if name == "write_file":
        return "write", {"filePath": _abs(args["path"], cwd), "content": args["content"]}
    if name == "edit_file":
        return "edit", {"filePath": _abs(args["path"], cwd), "oldString": args["old"], "newString": args["new"]}
    if name == "read_file":
        return "read", {"filePath": _abs(args["path"], cwd)}
    if name == "list_files":
        return "bash", {"command": f"ls -R {args.get('path', '.')}", "description": "List files"}
    return "bash", {"command": args["command"], "description": args.get("description", "Run a command")}


def _litellm(name: str, args: dict[str, Any], cwd: str | None) -> tuple[str, dict[str, Any]]:
    if name == "run":
        return "run_command", {"command": args["command"]}
    return name, dict(args)


_BY_HARNESS = {CLAUDE_CODE: _claude_code, OPENCODE: _opencode, LITELLM: _litellm}


def translate(name: str, args: dict[str, Any], harness: str, cwd: str | None) -> tuple[str, dict[str, Any]]:
    """The harness's own spelling of a tool call; non-generic names and unknown harnesses pass through."""
    mapper = _BY_HARNESS.get(harness)
    if mapper is None or name not in GENERIC_TOOLS:
        return name, dict(args)
    try:
        return mapper(name, args, cwd)
    except KeyError as missing:
        raise ValueError(f"tool {name!r} needs input field {missing}") from None
