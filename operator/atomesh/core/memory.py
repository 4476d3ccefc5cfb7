"""Memory from review: what reviewers asked for on a pull request that was then merged becomes a lesson,
proposed as a pull request to the Agent's memory folder, and approved memory is context of later runs.

Pure. Invariants:

- Only a merged revision (a run with `revisionOf` and feedback) of an Agent with `spec.memory` proposes a
  lesson; a memory run's own merge proposes nothing (no lessons about lessons).
- The memory run is made by `core.runfactory` with a deterministic name (`<run>-memory`): the merge
  observed twice (webhook and poll, or a restart) makes one run.
- Each lesson is its own file, `<memory.path>/<run>.md`: concurrent proposals never touch the same file,
  so merging one never conflicts with or loses another, and `git revert` of its merge removes exactly it.
- A memory run may change nothing but files under `memory.path`.
- A Mesh's `spec.memory` is the memory of every node's run whose Agent declares none (`shared_memory`); an
  Agent's own `spec.memory` always wins. The run's snapshot carries the memory it used, so its lessons go
  back to the same folder.
"""

from __future__ import annotations

from typing import Any, Final

from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.agentrun import AgentRun, Feedback
from atomesh.api.constants import LABEL_RUN, LABEL_TRIGGER
from atomesh.api.context import AgentMemory
from atomesh.core.runfactory import RunRequest, build_run, run_name

MEMORY_TRIGGER: Final = "memory"
MEMORY_SUFFIX = "-memory"
MEMORY_LABEL = "atomesh-memory"


def memory_run_name(run: AgentRun) -> str:
    return run_name(run.metadata.name, MEMORY_SUFFIX)


def build_memory_run(run: AgentRun, spec: AgentSpec) -> dict[str, Any] | None:
    """The AgentRun proposing the lessons of merged revision `run`; None when there is nothing to learn."""
    if spec.memory is None or not run.spec.revision_of or not run.spec.feedback:
        return None
    if run.spec.trigger.kind == MEMORY_TRIGGER:
        return None
    labels = {
        key: value
        for key, value in run.metadata.labels.items()
        if key.startswith("atomesh.io/") and key not in (LABEL_RUN, LABEL_TRIGGER)
    }
    return build_run(
        RunRequest(
            name=memory_run_name(run),
            agent=run.spec.agent_ref.name,
            trigger=MEMORY_TRIGGER,
            source=run.metadata.name,
            namespace=run.metadata.namespace,
            input=run.spec.input,  # valid against the Agent's input schema, as the revised run's was
            labels=labels,
            feedback=[item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in run.spec.feedback],
        )
    )


def shared_memory(agent: Agent, mesh_memory: AgentMemory | None) -> Agent:
    """The Agent as a mesh node's run sees it: its own memory, else the memory its Mesh shares."""
    if agent.spec.memory is not None or mesh_memory is None:
        return agent
    spec = agent.spec.model_copy(update={"memory": mesh_memory})
    return agent.model_copy(update={"spec": spec})


def accepts_lessons(run: AgentRun, spec: AgentSpec) -> bool:
    """Whether `run` proposes a lesson its Agent accepts without a reviewer (`spec.memory.autoAccept`)."""
    return run.spec.trigger.kind == MEMORY_TRIGGER and spec.memory is not None and spec.memory.auto_accept


def lesson_path(memory: AgentMemory, source_run: str) -> str:
    return f"{memory.path.strip('/')}/{source_run}.md"


def memory_patterns(memory: AgentMemory) -> list[str]:
    """The only files a memory run may change."""
    return [f"{memory.path.strip('/')}/**"]


def render_lesson(agent: str, source_run: str, feedback: list[Feedback]) -> str:
    """The lesson file: what reviewers asked for before they accepted the agent's work."""
    lines = [
        f"# Lesson from the review of {source_run}",
        "",
        f"Reviewers asked the agent {agent!r} for these changes before they accepted its work; "
        "do it this way from the start next time.",
        "",
    ]
    for item in feedback:
        where = f" (on {item.path}" + (f":{item.line}" if item.line else "") + ")" if item.path else ""
        body = " ".join(item.body.split()) or "(no text)"
        lines.append(f"- {body}{where} — @{item.author}")
    return "\n".join(lines) + "\n"
