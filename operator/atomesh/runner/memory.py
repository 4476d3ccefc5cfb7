"""The Agent's memory in the run: read as context at start, the lesson a memory run proposes, and the
summary a compaction run writes.

Memory lives in the workspace repository (`spec.memory.path`), so a run reads the approved memory of the
commit it checked out, pinned in provenance as `<path>@sha1:<commit>`; a memory run writes one lesson file
there instead of running the harness, and publish opens it as a pull request like any artifact. A
compaction run gives the harness the task of summarising the memory folder and fails with
MemoryCompactionTooLarge when the folder it leaves is larger than the compaction target.
"""

from __future__ import annotations

import git

from atomesh.api import conditions as c
from atomesh.api.agentrun import Usage
from atomesh.api.context import ContextVersion
from atomesh.api.runfile import RunFile
from atomesh.core.contextdoc import ContextDocuments
from atomesh.core.memory import MEMORY_TRIGGER, lesson_path, render_lesson
from atomesh.core.memorycompaction import COMPACTION_TRIGGER, compaction_target, compaction_task
from atomesh.harness.protocol import Task
from atomesh.runner.context import StepContext
from atomesh.runner.contexts import read_files
from atomesh.runner.failure import StepFailure
from atomesh.runner.state import write_checks, write_summary, write_usage

MEMORY_CONTEXT = "memory"
MEMORY_PIN_FILE = "memory.txt"  # the memory version the agent step read, for publish's provenance


def read_memory_pin(ctx: StepContext) -> str:
    path = ctx.state_dir / MEMORY_PIN_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def is_memory_run(run: RunFile) -> bool:
    """A run proposing a lesson (no harness)."""
    return run.trigger.kind == MEMORY_TRIGGER and run.spec.memory is not None


def is_compaction_run(run: RunFile) -> bool:
    """A run summarising the memory (the harness, on the memory folder only)."""
    return run.trigger.kind == COMPACTION_TRIGGER and run.spec.memory is not None


def changes_memory_only(run: RunFile) -> bool:
    """Lesson and compaction runs may change nothing but the memory folder."""
    return is_memory_run(run) or is_compaction_run(run)


def memory_files(ctx: StepContext) -> list[tuple[str, int]]:
    """(path from the repository root, bytes) of every file in the memory folder."""
    memory = ctx.run.spec.memory
    if memory is None:
        return []
    folder = ctx.workspace / memory.path.strip("/")
    if not folder.is_dir():
        return []
    prefix = memory.path.strip("/")
    return [(f"{prefix}/{name}", len(data)) for name, data in read_files(folder).items()]


def compaction_work(ctx: StepContext) -> Task:
    """The harness's task in a compaction run."""
    run = ctx.run
    assert run.spec.memory is not None
    folder = run.spec.memory.path.strip("/")
    system = (
        f"You are the atomesh agent {run.agent!r}, running unattended in a sandbox; nobody can answer questions. "
        f"Change only files under `{folder}/`. Finish with a short summary of what you merged and removed."
    )
    return Task(prompt=compaction_task(run.agent, run.spec.memory, memory_files(ctx)), system_prompt=system)


def check_compaction(ctx: StepContext) -> None:
    """Fail the run when the summarised memory is still larger than its target."""
    memory = ctx.run.spec.memory
    assert memory is not None
    total, target = sum(size for _, size in memory_files(ctx)), compaction_target(memory)
    if total > target:
        raise StepFailure(
            c.MEMORY_COMPACTION_TOO_LARGE,
            f"the compacted memory in {memory.path} holds {total} bytes, more than its target of {target} "
            "(half of spec.memory.compaction.thresholdBytes); nothing was pushed",
        )
    ctx.log(f"compacted the memory to {total} bytes (target {target})")


def memory_documents(ctx: StepContext) -> ContextDocuments | None:
    """The approved memory at the checked-out commit; None without `spec.memory`, lessons yet, or in a
    compaction run."""
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
    if is_compaction_run(ctx.run):
        return None  # it reads the memory in its workspace (the task lists the files), past maxBytes too
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
