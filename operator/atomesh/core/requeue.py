"""When a reconcile runs again: error kinds (Flux's stalling, waiting and transient errors) and the
retry policy as data (as Temporal's RetryPolicy).

A reconcile step raises one of these (or its plan carries one in `Plan.requeue`) to say what its
failure means; the controller's workers (`controller.reconciler.Workers`) turn it into the work
queue's requeue:

- `Waiting`: the object depends on something not there yet (its Agent, a slot); look again after
  `after` seconds, without counting it as an error.
- `Transient`: a call failed on the way (API, network, conflict); retry with the policy's backoff.
  The ports' own errors (`KubeError`, `ForgeError`) count as transient.
- `Stalled`: nothing changes until the object (or what it names) changes; the reason is already in
  its status, so it is not retried — the object's next change reconciles it again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient failures: `initial` seconds, times `factor` per attempt, at most `maximum`."""

    initial: float = 5.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1` (attempt 0 is the first retry)."""
        return float(min(self.maximum, self.initial * self.factor ** min(max(attempt, 0), 32)))


DEFAULT_RETRY = RetryPolicy()


class ReconcileError(Exception):
    """A reconcile that could not finish; the subclass decides when it runs again."""


class Waiting(ReconcileError):
    """Depends on something not there yet; look again after `after` seconds."""

    def __init__(self, message: str, after: float) -> None:
        super().__init__(message)
        self.after = after


class Transient(ReconcileError):
    """Failed on the way; retried with backoff."""


class Stalled(ReconcileError):
    """Cannot progress until the object changes; not retried."""
