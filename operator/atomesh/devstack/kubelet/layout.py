"""Where one pod lives on the host, and the error that keeps a pod from starting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PodLayout:
    """The per-pod directory: ``<root>/pods/<namespace>_<name>_<uid>/`` (names as a real kubelet
    makes them readable in its pod log directory)."""

    root: Path

    @classmethod
    def for_pod(cls, kubelet_root: Path, namespace: str, name: str, uid: str) -> PodLayout:
        return cls(kubelet_root / "pods" / f"{namespace}_{name}_{uid}")

    def volume(self, name: str) -> Path:
        return self.root / "volumes" / name

    def log(self, container: str) -> Path:
        return self.root / "logs" / f"{container}.log"

    def termination(self, container: str) -> Path:
        return self.root / "termination" / container

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"


class PodConfigError(Exception):
    """A pod cannot start yet or at all; `reason` is the Kubernetes event/waiting reason.

    `retryable` errors (a Secret or ConfigMap that may still be created) keep the pod
    Pending and are retried, as a real kubelet does.
    """

    def __init__(self, reason: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retryable = retryable
