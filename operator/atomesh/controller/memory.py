"""After a lesson is merged, the memory it grew is measured on the forge and, past its bound, a compaction run
is proposed (`core.memorycompaction` decides; this module observes and creates).

The memory is measured at the base branch's head through the forge's contents API, so what counts is
the merged memory, not what a run saw. A forge that cannot be read is logged: the next merged lesson
measures again. The run is created through the reconciled run's plan (`apply`),
so a second observation of the same merge (webhook and poll, or a restart) finds it already there.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pydantic import ValidationError

from atomesh.api.agentrun import AgentRun, AgentRunStatus
from atomesh.controller.apply import PullRequests, apply
from atomesh.controller.context import OperatorContext
from atomesh.core import plan as p
from atomesh.core.memory import MEMORY_TRIGGER
from atomesh.core.memorycompaction import plan_compaction
from atomesh.forge.errors import ForgeError
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS

log = logging.getLogger(__name__)


class MemoryForge(PullRequests, Protocol):
    """What measuring the memory and announcing a compaction need from a forge (a subset of ReviewForge)."""

    def branch_head(self, repo: str, branch: str) -> str: ...

    def folder_bytes(self, repo: str, ref: str, path: str) -> int: ...


def _runs(bodies: list[Body]) -> list[AgentRun]:
    found = []
    for body in bodies:
        try:
            found.append(AgentRun.model_validate(body))
        except ValidationError:
            continue  # an invalid run is reported by its own reconcile
    return found


def _shares(run: AgentRun, agent: str, path: str) -> bool:
    """Whether `run` belongs to the same memory: a run of the Agent, or one whose snapshot names the same
    folder (the nodes of a Mesh sharing its memory)."""
    snapshot = run.status.agent if run.status else None
    memory = snapshot.spec.memory if snapshot is not None else None
    return run.spec.agent_ref.name == agent or (memory is not None and memory.path == path)


def propose_compaction(ctx: OperatorContext, forge: MemoryForge, raw: Body, run: AgentRun) -> None:
    """Once lesson run `run` (as read: `raw`) is merged, propose a compaction when its memory is past its bound."""
    status = run.status or AgentRunStatus()
    if run.spec.trigger.kind != MEMORY_TRIGGER or status.agent is None or status.agent.spec.memory is None:
        return
    review = status.review
    if review is None or not review.repo:
        return
    memory, spec = status.agent.spec.memory, status.agent.spec
    try:
        head = forge.branch_head(review.repo, spec.workspace.base_branch)
        size = forge.folder_bytes(review.repo, head, memory.path)
    except ForgeError as error:  # the merge is recorded; the next merged lesson measures again
        log.warning("cannot measure the memory %s of %s: %s", memory.path, review.repo, error)
        return
    namespace = run.metadata.namespace or "default"
    agent = run.spec.agent_ref.name
    runs = [other for other in _runs(ctx.kube.list(AGENT_RUNS, namespace)) if _shares(other, agent, memory.path)]
    manifest = plan_compaction(run, memory, size, head, runs)
    if manifest is None:
        return
    name = manifest["metadata"]["name"]
    log.info(
        "memory %s of %s/%s holds %d bytes: proposing %s", memory.path, namespace, run.spec.agent_ref.name, size, name
    )
    announce = p.Comment(
        review.repo,
        review.number or 0,
        f"atomesh: the memory in `{memory.path}` now holds {size} bytes, more than its bound of "
        f"{memory.compaction_threshold()}; proposing a summary of it (AgentRun `{namespace}/{name}`).",
    )
    create = p.Create(manifest, on_created=(announce,) if review.number else ())
    apply(ctx, AGENT_RUNS, raw, p.Plan(actions=(create,)), forge=forge)
