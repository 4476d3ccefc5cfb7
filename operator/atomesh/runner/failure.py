"""How a runner step fails: a CamelCase reason and a message that names what to fix."""

from __future__ import annotations

from atomesh.api import conditions as c

INVALID_RUN_FILE = "InvalidRunFile"
CHECKOUT_FAILED = "CheckoutFailed"
SOURCE_NOT_FOUND = "SourceNotFound"
HARNESS_CRASHED = "HarnessCrashed"
MAX_TURNS_REACHED = "MaxTurnsReached"
TOKENS_EXCEEDED = "TokensExceeded"
MODEL_ERROR = "ModelError"
PUSH_FAILED = "PushFailed"
FORGE_ERROR = "ForgeError"
CREDENTIAL_IN_ARTIFACT = "CredentialInArtifact"

# Harness failure reasons (atomesh.harness.FailureReason) as the step reports them.
HARNESS_REASONS = {
    "Crashed": HARNESS_CRASHED,
    "MaxTurnsReached": MAX_TURNS_REACHED,
    "BudgetExceeded": c.BUDGET_EXCEEDED_REASON,
    "TokensExceeded": TOKENS_EXCEEDED,
    "Timeout": c.TIMEOUT,
    "ModelError": MODEL_ERROR,
}


class StepFailure(Exception):
    """Ends a step: exit code 1, `<reason>: <message>` on stderr and as the termination message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
