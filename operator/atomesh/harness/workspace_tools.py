"""The file and command tools of the built-in litellm loop, confined to the workspace.

Paths are relative to the workspace; anything that resolves outside it (`..`, absolute paths,
symlinks pointing out) or into `.git` is refused with a message the model can act on.
Commands run through the shell in the workspace, in their own process group, and only when
`allowed_tools` permits them (no list: everything is allowed, as in the other harnesses).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomesh.harness.process import run_shell

OUTPUT_LIMIT = 20_000
_TOOL_NAMES = ("list_files", "read_file", "write_file", "edit_file", "run_command")
_COMMAND_PATTERN = re.compile(r"^(?:Bash|run_command)\((?P<prefix>.*?)(?::\*|\*)?\)$")


class ToolError(Exception):
    """A tool call the model made wrongly; the message goes back to the model."""


def _schema(description: str, **properties: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "",
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {name: {"type": "string", "description": text} for name, text in properties.items()},
                "required": list(properties),
            },
        },
    }


def _named(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    schema["function"]["name"] = name
    return schema


TOOL_SCHEMAS = {
    "list_files": _named(
        "list_files", _schema("List files under a directory of the workspace.", path="Directory, relative.")
    ),
    "read_file": _named("read_file", _schema("Read a text file of the workspace.", path="File path, relative.")),
    "write_file": _named(
        "write_file",
        _schema("Create or overwrite a file.", path="File path, relative.", content="Full new content."),
    ),
    "edit_file": _named(
        "edit_file",
        _schema(
            "Replace one exact occurrence of `old` with `new` in a file.",
            path="File path, relative.",
            old="Exact text to replace.",
            new="Replacement text.",
        ),
    ),
    "run_command": _named(
        "run_command", _schema("Run a shell command in the workspace root.", command="The command line.")
    ),
}


@dataclass
class ToolPolicy:
    """Which tools and commands the agent may use, from harness.allowedTools."""

    tools: frozenset[str]
    command_prefixes: tuple[str, ...] = ()  # empty with run_command allowed: any command
    any_command: bool = True

    @classmethod
    def from_allowed(cls, allowed: tuple[str, ...]) -> ToolPolicy:
        if not allowed:
            return cls(tools=frozenset(_TOOL_NAMES))
        tools: set[str] = set()
        prefixes: list[str] = []
        any_command = False
        for entry in allowed:
            found = _COMMAND_PATTERN.match(entry)
            if found:
                tools.add("run_command")
                prefixes.append(found["prefix"].strip())
            elif entry in ("Bash", "run_command"):
                tools.add("run_command")
                any_command = True
            elif entry in _TOOL_NAMES:
                tools.add(entry)
            elif entry in ("Read", "Glob", "Grep", "LS"):
                tools.update({"read_file", "list_files"})
            elif entry in ("Write", "Edit", "MultiEdit"):
                tools.update({"write_file", "edit_file", "read_file"})
        return cls(tools=frozenset(tools), command_prefixes=tuple(prefixes), any_command=any_command)

    def command_allowed(self, command: str) -> bool:
        if "run_command" not in self.tools:
            return False
        if self.any_command:
            return True
        return any(command.strip().startswith(prefix) for prefix in self.command_prefixes)


@dataclass
class Workspace:
    root: Path
    policy: ToolPolicy
    env: Mapping[str, str] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def schemas(self) -> list[dict[str, Any]]:
        return [TOOL_SCHEMAS[name] for name in _TOOL_NAMES if name in self.policy.tools]

    def resolve(self, relative: str) -> Path:
        root = self.root.resolve()
        target = (root / relative).resolve()
        if target != root and root not in target.parents:
            raise ToolError(f"path {relative!r} is outside the workspace; use a path relative to its root")
        if ".git" in target.relative_to(root).parts:
            raise ToolError(f"path {relative!r} is inside .git, which tools may not touch")
        return target

    def call(self, name: str, arguments: str, deadline_seconds: float) -> str:
        """Run one tool call; problems come back as text for the model, never as exceptions."""
        try:
            args = json.loads(arguments or "{}")
            if not isinstance(args, dict):
                raise ToolError("arguments must be a JSON object")
            if name not in self.policy.tools:
                raise ToolError(f"tool {name!r} is not available; available: {sorted(self.policy.tools)}")
            return self._dispatch(name, args, deadline_seconds)
        except ToolError as problem:
            return f"error: {problem}"
        except json.JSONDecodeError as problem:
            return f"error: arguments are not JSON ({problem})"
        except KeyError as missing:
            return f"error: missing argument {missing}"
        except (OSError, UnicodeDecodeError) as problem:
            return f"error: {problem}"

    def _dispatch(self, name: str, args: dict[str, Any], deadline_seconds: float) -> str:
        if name == "list_files":
            base = self.resolve(str(args.get("path") or "."))
            root = self.root.resolve()
            found = sorted(
                str(path.relative_to(root))
                for path in base.rglob("*")
                if path.is_file() and ".git" not in path.relative_to(root).parts
            )
            return "\n".join(found[:500]) or "(no files)"
        if name == "read_file":
            return self.resolve(args["path"]).read_text(encoding="utf-8")[:OUTPUT_LIMIT]
        if name == "write_file":
            target = self.resolve(args["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(str(args["content"]), encoding="utf-8")
            self.changed.add(str(target.relative_to(self.root.resolve())))
            return f"wrote {args['path']}"
        if name == "edit_file":
            target = self.resolve(args["path"])
            text = target.read_text(encoding="utf-8")
            count = text.count(args["old"])
            if count != 1:
                raise ToolError(f"`old` occurs {count} times in {args['path']}; it must occur exactly once")
            target.write_text(text.replace(args["old"], args["new"], 1), encoding="utf-8")
            self.changed.add(str(target.relative_to(self.root.resolve())))
            return f"edited {args['path']}"
        return self._run(str(args["command"]), deadline_seconds)

    def _run(self, command: str, deadline_seconds: float) -> str:
        if not self.policy.command_allowed(command):
            raise ToolError(f"command not allowed by harness.allowedTools: {command!r}")
        code, output = run_shell(command, self.root, self.env, max(deadline_seconds, 0.1))
        if code is None:
            return "error: the command did not finish before the run's timeout"
        return f"exit code {code}\n{output[-OUTPUT_LIMIT:]}"


def command_env(base: Mapping[str, str]) -> dict[str, str]:
    """Commands inherit the harness environment minus anything that looks like a credential."""
    return {key: value for key, value in base.items() if not re.search(r"KEY|TOKEN|SECRET|PASSWORD", key)} | {
        "PATH": base.get("PATH", os.defpath)
    }
