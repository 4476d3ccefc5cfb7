"""Condition types and reasons: the one vocabulary of atomesh's status, conditions and Events.

Reasons are CamelCase, as Kubernetes API conventions ask, and each is documented where it is
defined: what it means, where it appears (a condition, `status.reason` in a phase, an Event).
The runner, the planners in `core`, the controllers and Events use these constants only; a
reason written as a string literal anywhere else is a bug (a test scans the code for them).

`Ready` is the summary condition. `Reconciling` and `Stalled` are abnormal-true conditions:
present only while true (Flux's kstatus convention).
"""

from typing import Final

# Condition types.
READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
RESOLVED_REFS: Final = "ResolvedRefs"
#: Abnormal-true, present only while true: the Agent's model has no price (see COST_UNKNOWN).
COST_UNKNOWN_CONDITION: Final = "CostUnknown"
BUDGET_EXCEEDED: Final = "BudgetExceeded"
#: Budget (and Agent, Mesh with `spec.budget`): True while a window's spend is at or above its
#: `warnAtPercent` (the soft threshold); BudgetExceeded=True once it reaches the limit (the hard one).
BUDGET_WARNING: Final = "BudgetWarning"
SUSPENDED: Final = "Suspended"
#: Agent with `spec.harness.virtualKey`: True once its LiteLLM virtual key exists with the settings its
#: spec asks for and its value is in the Secret `<agent>-gateway-key`. Ready does not depend on it: runs
#: wait for the Secret (their model proxy cannot start without it).
VIRTUAL_KEY_READY: Final = "VirtualKeyReady"

TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"

# --- Reasons shared by all kinds ---------------------------------------------------------------
#: Ready=True: the spec was reconciled and nothing is pending.
RECONCILED: Final = "Reconciled"
#: Reconciling=True: work towards the new generation is under way.
PROGRESSING: Final = "Progressing"
#: Ready=False and Stalled=True: the spec breaks a rule the CRD schema cannot express; the
#: message names the field and the fix. Waits for a new generation.
INVALID_SPEC: Final = "InvalidSpec"
#: Suspended=True: `spec.suspend` is true; no new runs start.
SUSPEND_REASON: Final = "Suspended"
#: Reconciling=True and one Warning Event: a reconcile of the object failed unexpectedly (a bug or
#: an error atomesh does not classify); the message names the error. Retried with backoff; the
#: condition goes once a reconcile succeeds again.
RECONCILE_ERROR: Final = "ReconcileError"

# --- Agent reasons -------------------------------------------------------------------------------
#: ResolvedRefs=True: `spec.source` resolved to the commit in `status.revision`.
REFS_RESOLVED: Final = "RefsResolved"
#: ResolvedRefs=True: the instructions are inline, the revision is the spec hash.
INLINE_INSTRUCTIONS: Final = "InlineInstructions"
#: ResolvedRefs=False: `spec.source` (repository or ref) could not be resolved; the message
#: carries git's whole error, credentials masked. Retried with backoff.
REF_RESOLUTION_FAILED: Final = "RefResolutionFailed"
#: Ready=False, Reconciling=True: `spec.workspace` (repository, base branch) does not resolve, so
#: no run of the Agent could check it out; the message carries the forge's or git's answer.
#: Retried with backoff.
WORKSPACE_UNRESOLVABLE: Final = "WorkspaceUnresolvable"
#: CostUnknown=True (the Agent stays Ready): `spec.harness.model` is not in atomesh's price table and
#: the Agent declares no `spec.harness.price`, so its runs count $0. A run of it with
#: `limits.maxCostUSD` fails with this reason instead of running without a limit that holds.
COST_UNKNOWN: Final = "CostUnknown"

#: Ready=False, ResolvedRefs=False, Reconciling=True: a Context the Agent names in `spec.context` does
#: not exist or is not Ready; the message names it. The Agent is reconciled again when it changes.
CONTEXT_NOT_READY: Final = "ContextNotReady"
#: Ready=False, ResolvedRefs=False, Stalled=True: a reference to an object in another namespace is not
#: allowed by that object (its `spec.allowedNamespaces`: Same by default, All, or a namespace Selector),
#: or cannot cross namespaces at all (a ConfigMap Context); the message names the object and the rule.
#: The Agent is reconciled again when the referenced object changes. (Gateway API's reason.)
REF_NOT_PERMITTED: Final = "RefNotPermitted"
#: VirtualKeyReady=True: the Agent's virtual key was generated, updated or found as its spec asks.
VIRTUAL_KEY_ISSUED: Final = "VirtualKeyIssued"
#: VirtualKeyReady=False: the LiteLLM proxy refused a key request (401/403: the operator's master key;
#: 400: a field such as a model the proxy does not serve); the message carries the proxy's answer, keys
#: redacted. Tried again when the Agent changes or the operator restarts.
GATEWAY_REFUSED: Final = "GatewayRefused"
#: VirtualKeyReady=False: the LiteLLM proxy could not be reached or failed (5xx). Retried with backoff.
GATEWAY_UNREACHABLE: Final = "GatewayUnreachable"
#: VirtualKeyReady=False: the operator has no master key for the gateway's key API (chart value
#: `gateway.masterKeySecret`), so it cannot create virtual keys.
GATEWAY_NOT_CONFIGURED: Final = "GatewayNotConfigured"

# --- Context reasons -----------------------------------------------------------------------------
#: Ready=False, Stalled=True: the source kind cannot be resolved by this operator (an `oci` source);
#: the message names what is not supported and what to use instead. Waits for a new generation.
SOURCE_UNSUPPORTED: Final = "SourceUnsupported"
#: Ready=False, Reconciling=True: `spec.configMap` names a ConfigMap that does not exist (yet).
CONFIG_MAP_NOT_FOUND: Final = "ConfigMapNotFound"
#: Context Ready=False, Stalled=True: the source holds more than `spec.maxBytes` of text. Also a runner
#: step failure: a git context's folder turned out larger than its limit when the run read it.
CONTEXT_TOO_LARGE: Final = "ContextTooLarge"
#: Failed (runner step): a compaction run left the memory folder larger than its target (half of
#: spec.memory.compaction.thresholdBytes); nothing was pushed.
MEMORY_COMPACTION_TOO_LARGE: Final = "MemoryCompactionTooLarge"

# --- AgentRun reasons: status.reason of each phase, and its Ready/Reconciling/Stalled ------------
#: Pending: accepted, about to be admitted.
CREATED: Final = "Created"
#: Pending: waits for a concurrency slot or a budget window (a mesh's or an Agent's).
QUEUED: Final = "Queued"
#: Pending, Event Warning: the Agent in `spec.agentRef` does not exist (yet).
AGENT_NOT_FOUND: Final = "AgentNotFound"
#: Pending, Event Warning: the Agent exists but is not Ready.
AGENT_NOT_READY: Final = "AgentNotReady"
#: Failed, Stalled=True: `spec.input` does not validate against the Agent's input schema.
INVALID_INPUT: Final = "InvalidInput"
#: Pending: the runner pod was created (no Event: the status names the pod; a start is not news).
POD_CREATED: Final = "PodCreated"
#: Pending, Event Normal: a Paused run resumes: a new runner pod (`<run>-runner-<attempt>`) continues its
#: kept session and work; the message says what resumed it (a raised limit or the annotation).
RESUMED: Final = "Resumed"
#: Running: a runner step is running.
RUNNING: Final = "Running"
#: AwaitingReview: the artifact's pull request is open for review.
AWAITING_REVIEW: Final = "AwaitingReview"
#: Succeeded: the agent changed nothing, so no pull request was opened.
NO_CHANGES: Final = "NoChanges"
#: Succeeded, Ready=True: the pull request was merged.
MERGED: Final = "Merged"
#: Rejected: the pull request was closed without merging.
CLOSED: Final = "Closed"
#: AwaitingReview: a reviewer with write access requested changes; a revision run addresses them.
CHANGES_REQUESTED: Final = "ChangesRequested"
#: AwaitingReview: the revision run ended without publishing (no change, failed or cancelled); the
#: pull request is back in review, a comment on it says why, and the next change request starts the
#: next revision.
REVISION_ENDED_WITHOUT_CHANGE: Final = "RevisionEndedWithoutChange"
#: Rejected: changes were requested after `review.maxRevisions` revisions.
MAX_REVISIONS_REACHED: Final = "MaxRevisionsReached"
#: Failed, Stalled=True: the run exceeded `limits.timeout` (the pod's activeDeadlineSeconds).
TIMEOUT: Final = "Timeout"
#: Cancelled: `spec.cancel` was set; the runner pod was deleted.
CANCELLED: Final = "Cancelled"
#: Failed, Stalled=True: the runner pod vanished; it is never recreated, a step may have published.
POD_LOST: Final = "PodLost"
#: Paused: the run reached its dollar limit (`limits.maxCostUSD` or `budget.perRun.usd`) mid-flight; the model
#: proxy refused the next model request, the agent step ended at that turn with its session and work kept,
#: and nothing was published. It resumes when the limit is raised above its spend, or on the
#: `atomesh.io/resume` annotation. Pending/Queued and the BudgetExceeded condition: a mesh over its daily
#: budget. Phase Queued, Event Normal: a new run waits because a window of a budget that covers it (its
#: Agent's `spec.budget`, its Mesh's `spec.budget`, a Budget of the namespace) is spent; the message names
#: each window and when the run starts. Budget, Event Warning and BudgetExceeded=True: a window's hard
#: limit is reached.
BUDGET_EXCEEDED_REASON: Final = "BudgetExceeded"
#: Budget, Event Warning and BudgetWarning=True: a window's spend reached `warnAtPercent` of its limit.
BUDGET_WARNING_REASON: Final = "BudgetWarning"

# Failed, Stalled=True: why a runner step failed. The step writes `<Reason>: <message>` as its
# termination message; the run's `status.reason` and `status.failure.reason` carry the reason.
#: A step failed for a reason it did not name (or wrote no termination message).
STEP_FAILED: Final = "StepFailed"
#: The run file or an environment variable the pod sets is missing or invalid.
INVALID_RUN_FILE: Final = "InvalidRunFile"
#: checkout could not clone the workspace repository at its base (git's message follows).
CHECKOUT_FAILED: Final = "CheckoutFailed"
#: The Agent's `spec.source` has no AGENT.md at `source.path` in the resolved commit.
SOURCE_NOT_FOUND: Final = "SourceNotFound"
#: The harness CLI exited abnormally.
HARNESS_CRASHED: Final = "HarnessCrashed"
#: The harness stopped at `harness.maxTurns` before finishing.
MAX_TURNS_REACHED: Final = "MaxTurnsReached"
#: The run used more than `limits.maxTokens`. Paused: it reached its token limit (`limits.maxTokens` or
#: `budget.perRun.tokens`) mid-flight and waits to be resumed, as with BudgetExceeded.
TOKENS_EXCEEDED: Final = "TokensExceeded"
#: The model API kept failing (after the harness's own retries).
MODEL_ERROR: Final = "ModelError"
#: The artifact touches files outside `output.paths`; nothing was pushed.
PATHS_NOT_ALLOWED: Final = "PathsNotAllowed"
#: Failed (publish step): the artifact adds a symbolic link whose target lies outside the repository or
#: outside the files `spec.output.paths` allows; the message names each link and its target. Nothing
#: was pushed. `spec.output.allowOutOfBoundsSymlinks: true` publishes such links (shown as risks).
SYMLINK_OUT_OF_BOUNDS: Final = "SymlinkOutOfBounds"
#: A credential the run holds appears in the artifact; nothing was pushed.
CREDENTIAL_IN_ARTIFACT: Final = "CredentialInArtifact"
#: publish could not push the artifact's branch.
PUSH_FAILED: Final = "PushFailed"
#: The forge API refused or failed to open or update the pull request.
FORGE_ERROR: Final = "ForgeError"
#: Failed (publish step): the run was to push to a pull request's head branch (spec.pullRequest) but
#: may not: the pull request is closed, comes from a fork, its head branch changed, or the branch is
#: the base or protected. Nothing was pushed.
PULL_REQUEST_BRANCH_REFUSED: Final = "PullRequestBranchRefused"
#: A limit other than cost, tokens or time was exceeded.
LIMIT_EXCEEDED: Final = "LimitExceeded"
#: checkout could not fetch a git context at its pinned commit, or its folder is missing there.
CONTEXT_UNAVAILABLE: Final = "ContextUnavailable"
#: A ConfigMap context's content no longer matches the digest the run pinned (it changed after the
#: Agent resolved it); the next run uses the new version.
CONTEXT_CHANGED: Final = "ContextChanged"

#: The reasons of phase Paused: the hard limit a run stopped at.
PAUSE_REASONS: Final = frozenset({BUDGET_EXCEEDED_REASON, TOKENS_EXCEEDED})

#: Every reason a runner step may report, so a termination message's prefix is recognised.
STEP_FAILURE_REASONS: Final = frozenset(
    {
        STEP_FAILED,
        INVALID_RUN_FILE,
        CHECKOUT_FAILED,
        SOURCE_NOT_FOUND,
        HARNESS_CRASHED,
        MAX_TURNS_REACHED,
        TOKENS_EXCEEDED,
        MODEL_ERROR,
        PATHS_NOT_ALLOWED,
        SYMLINK_OUT_OF_BOUNDS,
        CREDENTIAL_IN_ARTIFACT,
        PUSH_FAILED,
        FORGE_ERROR,
        PULL_REQUEST_BRANCH_REFUSED,
        LIMIT_EXCEEDED,
        CONTEXT_UNAVAILABLE,
        CONTEXT_CHANGED,
        CONTEXT_TOO_LARGE,
        MEMORY_COMPACTION_TOO_LARGE,
        TIMEOUT,
        BUDGET_EXCEEDED_REASON,
    }
)

# --- Mesh reasons --------------------------------------------------------------------------------
#: Ready=False, Stalled=True: the graph has a cycle, an unknown node or a bad input mapping.
INVALID_GRAPH: Final = "InvalidGraph"
#: Ready=False: some nodes' Agents are not Ready.
AGENTS_NOT_READY: Final = "AgentsNotReady"
#: Ready=False: a node names an Agent that does not exist.
AGENT_MISSING: Final = "AgentMissing"
#: BudgetExceeded=False: today's spend is within `limits.maxCostUSDPerDay`.
WITHIN_BUDGET: Final = "WithinBudget"
#: Budget Ready=True: spend is accounted (BudgetWarning/BudgetExceeded say how much is left).
BUDGET_ACCOUNTED: Final = "Accounted"
#: Suspended=False.
NOT_SUSPENDED: Final = "NotSuspended"

# --- Event reasons (what happened, on the object it happened to) ---------------------------------
#: Mesh, Normal: an edge fired and created the downstream AgentRun.
RUN_CREATED: Final = "RunCreated"
#: Mesh, Normal: a run of a root node was adopted and started a new execution.
EXECUTION_STARTED: Final = "ExecutionStarted"
#: Mesh, Normal: a queued AgentRun got its slot or budget and was released.
RUN_RELEASED: Final = "RunReleased"
#: Mesh, Normal: an upstream run was rejected or failed, so its downstream branch does not run.
BRANCH_STOPPED: Final = "BranchStopped"
#: Mesh, Warning: a run labelled with the mesh could not be adopted into an execution.
RUN_NOT_ADOPTED: Final = "RunNotAdopted"
#: Agent, Normal: the Agent's revision (source commit or spec hash) changed.
REVISION_CHANGED: Final = "RevisionChanged"
#: Agent, Normal: a scheduled run replaced the running one (`concurrencyPolicy: Replace`).
RUN_REPLACED: Final = "RunReplaced"
#: Agent, Normal: the schedule created a run.
RUN_SCHEDULED: Final = "RunScheduled"
#: Agent, Warning: a scheduled time was skipped (concurrencyPolicy Forbid, or missed by too long).
SCHEDULE_SKIPPED: Final = "ScheduleSkipped"
#: Agent, Normal: an event trigger (spec.triggers.events) created a run; the message names the
#: trigger, the event and the delivery.
RUN_TRIGGERED: Final = "RunTriggered"
#: Agent, Warning: a delivery matched an event trigger but its input could not be made (a CEL
#: expression failed, or the input breaks spec.input.schema); no run starts, and the issue or pull
#: request it came from gets a reply saying why.
TRIGGER_INPUT_INVALID: Final = "TriggerInputInvalid"
#: Agent, Normal: a delivery matched an event trigger but its sender may not trigger the Agent
#: (spec.triggers.events[].authorization); a slash command gets a reply saying why.
TRIGGER_REFUSED: Final = "TriggerRefused"
#: Agent, Normal: a delivery matched an event trigger but started nothing: a run it started for the
#: same issue, pull request or branch was still Pending or Running (`concurrencyPolicy: Forbid`), the
#: trigger's `cooldown` had not passed, or the Agent's `triggers.rateLimit` was reached; a slash
#: command gets a reply saying which.
TRIGGER_SKIPPED: Final = "TriggerSkipped"
