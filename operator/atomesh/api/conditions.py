"""Condition types and reasons (CamelCase, as Kubernetes API conventions ask).

`Ready` is the summary condition. `Reconciling` and `Stalled` are abnormal-true
conditions: they are present only while true (Flux's kstatus convention).
"""

from typing import Final

# Condition types.
READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
RESOLVED_REFS: Final = "ResolvedRefs"
BUDGET_EXCEEDED: Final = "BudgetExceeded"
SUSPENDED: Final = "Suspended"

TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"

# Reasons shared by all kinds.
RECONCILED: Final = "Reconciled"
PROGRESSING: Final = "Progressing"
INVALID_SPEC: Final = "InvalidSpec"
SUSPEND_REASON: Final = "Suspended"

# Agent reasons.
REFS_RESOLVED: Final = "RefsResolved"
INLINE_INSTRUCTIONS: Final = "InlineInstructions"
REF_RESOLUTION_FAILED: Final = "RefResolutionFailed"

# AgentRun reasons.
CREATED: Final = "Created"
QUEUED: Final = "Queued"
AGENT_NOT_FOUND: Final = "AgentNotFound"
AGENT_NOT_READY: Final = "AgentNotReady"
INVALID_INPUT: Final = "InvalidInput"
POD_CREATED: Final = "PodCreated"
RUNNING: Final = "Running"
AWAITING_REVIEW: Final = "AwaitingReview"
NO_CHANGES: Final = "NoChanges"
MERGED: Final = "Merged"
CLOSED: Final = "Closed"
CHANGES_REQUESTED: Final = "ChangesRequested"
MAX_REVISIONS_REACHED: Final = "MaxRevisionsReached"
STEP_FAILED: Final = "StepFailed"
PATHS_NOT_ALLOWED: Final = "PathsNotAllowed"
LIMIT_EXCEEDED: Final = "LimitExceeded"
TIMEOUT: Final = "Timeout"
CANCELLED: Final = "Cancelled"
POD_LOST: Final = "PodLost"
BUDGET_EXCEEDED_REASON: Final = "BudgetExceeded"

# Mesh reasons.
INVALID_GRAPH: Final = "InvalidGraph"
AGENTS_NOT_READY: Final = "AgentsNotReady"
AGENT_MISSING: Final = "AgentMissing"
WITHIN_BUDGET: Final = "WithinBudget"
NOT_SUSPENDED: Final = "NotSuspended"
