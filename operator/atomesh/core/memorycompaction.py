"""Memory compaction: a memory grown past its bound is summarised by the agent in a pull request a person merges.

Pure. Invariants:

- A compaction is proposed only when the memory folder at the base branch holds more than
  `memory.compactionThreshold()` bytes and `memory.compaction.suspend` is false.
- One compaction at a time per memory: none is proposed while another compaction run of the memory's
  runs (`runs`: the Agent's, and those of the Agents sharing a Mesh's memory) has not finished
  (Pending, Running or awaiting review), so two summaries never race for the same files.
- The compaction run is made by `core.runfactory` with a deterministic name (`<agent>-compaction-<commit>`):
  the memory version observed twice (a webhook and a poll, or a restart) makes one run, and a closed
  compaction pull request is not proposed again for the same version, only for a later one.
- Its input is the input of the run whose lesson grew the memory (valid against the Agent's input schema).
- The summary must fit in `compaction_target()` bytes (half of the threshold), so a merged compaction
  leaves room for new lessons before the next one; a larger summary fails the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from atomesh.api.agentrun import TERMINAL_PHASES, AgentRun
from atomesh.api.constants import LABEL_RUN, LABEL_TRIGGER
from atomesh.api.context import AgentMemory
from atomesh.core.runfactory import RunRequest, build_run, run_name

COMPACTION_TRIGGER: Final = "compaction"
SUMMARY_FILE = "SUMMARY.md"


def compaction_target(memory: AgentMemory) -> int:
    """Most bytes the compacted memory may hold."""
    return max(memory.compaction_threshold() // 2, 1)


def compaction_run_name(agent: str, memory_commit: str) -> str:
    return run_name(agent, f"-compaction-{memory_commit[:12]}")


def compaction_in_progress(runs: Sequence[AgentRun]) -> str | None:
    """The name of an unfinished compaction run among `runs`, or None."""
    for run in runs:
        phase = run.status.phase if run.status else "Pending"
        if run.spec.trigger.kind == COMPACTION_TRIGGER and phase not in TERMINAL_PHASES:
            return run.metadata.name
    return None


def plan_compaction(
    source: AgentRun, memory: AgentMemory, memory_bytes: int, memory_commit: str, runs: Sequence[AgentRun]
) -> dict[str, Any] | None:
    """The compaction run to create after `source` (a merged lesson) left `memory_bytes` of memory at
    `memory_commit`; None when the memory is within its bound, compaction is suspended, or one is in progress.
    `runs` are the runs of the memory: the Agent's, and those of the Agents sharing it."""
    if memory.compaction.suspend or memory_bytes <= memory.compaction_threshold():
        return None
    if compaction_in_progress(runs) is not None:
        return None
    agent = source.spec.agent_ref.name
    labels = {
        key: value
        for key, value in source.metadata.labels.items()
        if key.startswith("atomesh.io/") and key not in (LABEL_RUN, LABEL_TRIGGER)
    }
    return build_run(
        RunRequest(
            name=compaction_run_name(agent, memory_commit),
            agent=agent,
            trigger=COMPACTION_TRIGGER,
            source=source.metadata.name,
            namespace=source.metadata.namespace,
            input=source.spec.input,
            labels=labels,
        )
    )


def compaction_task(agent: str, memory: AgentMemory, files: Sequence[tuple[str, int]]) -> str:
    """The task of a compaction run: summarise the memory folder's files into one summary within the target."""
    folder = memory.path.strip("/")
    total = sum(size for _, size in files)
    listing = "\n".join(f"- `{path}` ({size} bytes)" for path, size in files) or "- (no files)"
    return (
        f"# Task\n\nYou keep the memory of the atomesh agent {agent!r}: what reviewers taught it, one file per "
        f"lesson in `{folder}/`. It holds {total} bytes, more than its bound of "
        f"{memory.compaction_threshold()} bytes.\n\n"
        f"Rewrite it as one file, `{folder}/{SUMMARY_FILE}`, of at most {compaction_target(memory)} bytes: keep "
        "every distinct rule once, in the reviewers' words where you can, merge duplicates, drop nothing a "
        f"reviewer asked for. Then delete the other files of `{folder}/` that the summary covers. Change nothing "
        f"outside `{folder}/`. A person reviews the result before it replaces the memory.\n\n"
        f"## The memory's files\n\n{listing}\n"
    )
