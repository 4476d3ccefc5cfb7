"""The objects a mesh writes: the AgentRuns it creates and the patches that adopt and release runs.

See `core.meshplan` for when; this module only says what they look like on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomesh.api.agentrun import TriggerKind
from atomesh.api.constants import (
    ANNOTATION_INPUT_ERROR,
    ANNOTATION_MESH_EDGE,
    ANNOTATION_QUEUED,
    ANNOTATION_UPSTREAM_RUNS,
    LABEL_MESH,
    LABEL_MESH_EXECUTION,
    LABEL_MESH_NODE,
)
from atomesh.core.runfactory import RunRequest, build_run


@dataclass(frozen=True)
class PlannedRun:
    """An AgentRun the mesh creates; `queued` says why it must wait, `error` why its input is invalid."""

    name: str
    mesh: str
    node: str
    agent: str
    execution: str
    input: dict[str, Any] = field(default_factory=dict)
    edges: tuple[str, ...] = ()
    upstream_runs: tuple[str, ...] = ()
    queued: str | None = None
    error: str | None = None
    trigger_kind: TriggerKind = "mesh"
    trigger_source: str = ""

    def manifest(self, namespace: str | None) -> dict[str, Any]:
        """The AgentRun object to create."""
        annotations = {}
        if self.edges:
            annotations[ANNOTATION_MESH_EDGE] = ",".join(self.edges)
        if self.upstream_runs:
            annotations[ANNOTATION_UPSTREAM_RUNS] = ",".join(self.upstream_runs)
        if self.queued:
            annotations[ANNOTATION_QUEUED] = self.queued
        if self.error:
            annotations[ANNOTATION_INPUT_ERROR] = self.error
        labels = {LABEL_MESH: self.mesh, LABEL_MESH_NODE: self.node, LABEL_MESH_EXECUTION: self.execution}
        return build_run(
            RunRequest(
                name=self.name,
                agent=self.agent,
                trigger=self.trigger_kind,
                source=self.trigger_source or f"{self.mesh}/{','.join(self.edges) or self.node}",
                namespace=namespace,
                input=self.input,
                labels=labels,
                annotations=annotations,
            )
        )


@dataclass(frozen=True)
class Adoption:
    """A root run a user created for the mesh: label it into its execution (and hold it if queued)."""

    run: str
    node: str
    execution: str
    queued: str | None = None

    def patch(self) -> dict[str, Any]:
        """A merge patch of the run's metadata."""
        annotations = {ANNOTATION_QUEUED: self.queued} if self.queued else {}
        labels = {LABEL_MESH_NODE: self.node, LABEL_MESH_EXECUTION: self.execution}
        return {"metadata": {"labels": labels, "annotations": annotations}}


RELEASE_PATCH: dict[str, Any] = {"metadata": {"annotations": {ANNOTATION_QUEUED: None}}}


def queued_patch(why: str) -> dict[str, Any]:
    """A merge patch saying why a queued run still waits (its Pending/Queued message)."""
    return {"metadata": {"annotations": {ANNOTATION_QUEUED: why}}}
