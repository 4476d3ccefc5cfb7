"""How a runner step fails: a reason of `atomesh.api.conditions` and a message that names what to fix."""

from __future__ import annotations

from atomesh.api import conditions as c

# Harness failure reasons (atomesh.harness.FailureReason) as the step reports them.
HARNESS_REASONS = {
    "Crashed": c.HARNESS_CRASHED,
    "MaxTurnsReached": c.MAX_TURNS_REACHED,
    "BudgetExceeded": c.BUDGET_EXCEEDED_REASON,
    "TokensExceeded": c.TOKENS_EXCEEDED,
    "Timeout": c.TIMEOUT,
    "ModelError": c.MODEL_ERROR,
}


class StepFailure(Exception):
    """Ends a step: exit code 1, `<reason>: <message>` on stderr and as the termination message."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in c.STEP_FAILURE_REASONS:
            raise ValueError(f"{reason!r} is not a step failure reason of atomesh.api.conditions")
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
