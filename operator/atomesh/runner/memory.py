"""The Agent's memory in the run: read as context at start, and the lesson a memory run proposes.

Memory lives in the workspace repository (`spec.memory.path`), so a run reads the approved memory of the
commit it checked out, pinned in provenance as `<path>@sha1:<commit>`; a memory run writes one lesson file
there instead of running the harness, and publish opens it as a pull request like any artifact.
"""

from __future__ import annotations

import git

from atomesh.api.agentrun import Usage
from atomesh.api.context import ContextVersion
from atomesh.api.runfile import RunFile
from atomesh.core.contextdoc import ContextDocuments
from atomesh.core.memory import MEMORY_TRIGGER, lesson_path, render_lesson
from atomesh.runner.context import StepContext
from atomesh.runner.contexts import read_files
from atomesh.runner.state import write_checks, write_summary, write_usage

MEMORY_CONTEXT = "memory"
MEMORY_PIN_FILE = "memory.txt"  # the memory version the agent step read, for publish's provenance


def read_memory_pin(ctx: StepContext) -> str:
    path = ctx.state_dir / MEMORY_PIN_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def is_memory_run(run: RunFile) -> bool:
    return run.trigger.kind == MEMORY_TRIGGER and run.spec.memory is not None


def memory_documents(ctx: StepContext) -> ContextDocuments | None:
    """The approved memory at the checked-out commit; None without `spec.memory` or lessons yet."""
    memory = ctx.run.spec.memory
    if memory is None:
        return None
    folder = ctx.workspace / memory.path.strip("/")
    if not folder.is_dir():
        return None
    with git.Repo(ctx.workspace) as repo:
        head = repo.head.commit.hexsha
    version = ContextVersion(
        name=MEMORY_CONTEXT,
        kind="git",
        revision=f"{memory.path}@sha1:{head}",
        repo=ctx.run.spec.workspace.repo,
        path=memory.path,
        commit=head,
        max_bytes=memory.max_bytes,
    )
    ctx.state_dir.mkdir(parents=True, exist_ok=True)
    (ctx.state_dir / MEMORY_PIN_FILE).write_text(f"{MEMORY_CONTEXT} {version.revision}", encoding="utf-8")
    return ContextDocuments(version, read_files(folder, memory.max_bytes))


def propose_lesson(ctx: StepContext) -> None:
    """Write the lesson of the reviewed run into the memory folder (no model call: the reviewers' words)."""
    run = ctx.run
    assert run.spec.memory is not None
    source = run.trigger.source or run.run
    path = lesson_path(run.spec.memory, source)
    target = ctx.workspace / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_lesson(run.agent, source, run.feedback), encoding="utf-8")
    write_usage(ctx.state_dir, Usage())
    write_checks(ctx.state_dir, [])
    write_summary(ctx.state_dir, f"Proposes the lesson from the review of {source} as {path}.")
    ctx.log(f"proposed the lesson of {source} at {path}")
