"""An operator context on the port fakes for the controllers' plan-apply tests: FakeKube, a fixed
clock, and the Events the controllers post, recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from atomesh.controller.context import OperatorContext
from atomesh.core.config import OperatorConfig
from atomesh.kube.fake import FakeKube

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NAMESPACE = "team"


class Events(list[tuple[str, str, str, str]]):
    """(object name, type, reason, message) of each Event posted."""

    def post(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.append(((body.get("metadata") or {}).get("name", ""), type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, _, reason, _ in self]


def operator_context(events: Events) -> tuple[OperatorContext, FakeKube]:
    kube = FakeKube()
    ctx = OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=kube, clock=lambda: NOW)
    ctx.post_event = events.post
    return ctx, kube


def agent_manifest(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": name, "namespace": NAMESPACE, "creationTimestamp": "2026-11-24T09:00:00Z"},
        "spec": {
            "purpose": f"{name} things.",
            "instructions": "Do it.",
            "output": {"artifact": "code"},
            "workspace": {"repo": "acme/app"},
            "harness": {"model": "claude-sonnet-4-6"},
            **spec,
        },
    }


READY: dict[str, Any] = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@0123456789ab",
    "specHash": "0123456789ab" * 5,
}


def writes_to(kube: FakeKube, plural: str) -> list[tuple[str, str]]:
    return [(verb, name) for verb, kind, name in kube.writes if kind == plural]
