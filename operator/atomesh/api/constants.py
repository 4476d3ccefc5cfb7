"""Names that users, tests and other controllers depend on: one place for all of them."""

from typing import Final

GROUP: Final = "atomesh.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
CATEGORY: Final = "atomesh"

KIND_AGENT: Final = "Agent"
KIND_AGENT_RUN: Final = "AgentRun"
KIND_MESH: Final = "Mesh"
KIND_CONTEXT: Final = "Context"
KIND_BUDGET: Final = "Budget"
PLURAL_AGENTS: Final = "agents"
PLURAL_AGENT_RUNS: Final = "agentruns"
PLURAL_MESHES: Final = "meshes"
PLURAL_CONTEXTS: Final = "contexts"
PLURAL_BUDGETS: Final = "budgets"

# Labels put on AgentRuns, runner pods and ConfigMaps.
LABEL_AGENT: Final = f"{GROUP}/agent"
LABEL_RUN: Final = f"{GROUP}/run"
LABEL_MESH: Final = f"{GROUP}/mesh"
LABEL_MESH_NODE: Final = f"{GROUP}/mesh-node"
LABEL_MESH_EXECUTION: Final = f"{GROUP}/mesh-execution"
LABEL_TRIGGER: Final = f"{GROUP}/trigger"
LABEL_COMPONENT: Final = f"{GROUP}/component"
# Runs started by an event trigger: the trigger's name and the event (issues, push, webhook, ...).
LABEL_EVENT_TRIGGER: Final = f"{GROUP}/event-trigger"
LABEL_EVENT: Final = f"{GROUP}/event"
# A hash of what an event run is about (its issue or pull request, or a push's branch): per-trigger concurrency.
LABEL_EVENT_SUBJECT: Final = f"{GROUP}/event-subject"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "atomesh"

# Annotations.
ANNOTATION_SCHEDULED_AT: Final = f"{GROUP}/scheduled-at"
ANNOTATION_MESH_EDGE: Final = f"{GROUP}/mesh-edge"
# Provenance of an event-triggered run, and the issue or pull request (owner/name#number) it replies on.
ANNOTATION_DELIVERY: Final = f"{GROUP}/delivery"
ANNOTATION_SENDER: Final = f"{GROUP}/sender"
ANNOTATION_SOURCE_URL: Final = f"{GROUP}/source-url"
ANNOTATION_REPLY_TO: Final = f"{GROUP}/reply-to"
# The replies already posted for a run (started, finished), so a restart never posts one twice.
ANNOTATION_REPLIED: Final = f"{GROUP}/replied"
ANNOTATION_UPSTREAM_RUNS: Final = f"{GROUP}/upstream-runs"
# A mesh run held for a concurrency slot, the budget or suspend: no pod until the mesh removes it.
# The value says why (shown as the run's Pending/Queued message).
ANNOTATION_QUEUED: Final = f"{GROUP}/queued"
# Set (to any new value, e.g. a timestamp) on a Paused AgentRun: resume it now; the value handled last is
# in status.lastHandledResume, so a new value asks again (as Flux's reconcile.fluxcd.io/requestedAt).
ANNOTATION_RESUME: Final = f"{GROUP}/resume"
# A mesh run whose input could not be mapped from its upstream run: admission fails it with this message.
ANNOTATION_INPUT_ERROR: Final = f"{GROUP}/input-error"
# kopf's own bookkeeping lives under our prefix, never in our status schema.
ANNOTATION_KOPF_PREFIX: Final = f"kopf.{GROUP}"
FINALIZER: Final = f"{GROUP}/finalizer"

# Runner pod layout (paths inside the pod; the local kubelet maps them).
RUNNER_CONTAINER_CHECKOUT: Final = "checkout"
RUNNER_CONTAINER_AGENT: Final = "agent"
RUNNER_CONTAINER_PUBLISH: Final = "publish"
# Only in the pods of Agents that declare spec.review.pages.build: builds the site, holding no credentials.
RUNNER_CONTAINER_BUILD: Final = "build"
RUNNER_STEPS: Final = (
    RUNNER_CONTAINER_CHECKOUT,
    RUNNER_CONTAINER_AGENT,
    RUNNER_CONTAINER_BUILD,
    RUNNER_CONTAINER_PUBLISH,
)
RUN_FILE_MOUNT: Final = "/etc/atomesh/run"
RUN_FILE_NAME: Final = "run.json"
WORK_MOUNT: Final = "/workspace"
TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"
TERMINATION_MESSAGE_LIMIT: Final = 4096

# The local runner (`atomesh dev`'s kubelet) registers a Node with this label and a NoSchedule taint of
# the same key and value, so that a cluster places only runner pods on it: those that tolerate the
# taint and select the label (the pod builder adds both when the operator's `local_runner` is on).
LABEL_LOCAL_RUNNER: Final = f"{GROUP}/local-runner"
TAINT_LOCAL_RUNNER: Final = LABEL_LOCAL_RUNNER
LOCAL_RUNNER_VALUE: Final = "true"
ENV_LOCAL_RUNNER: Final = "ATOMESH_LOCAL_RUNNER"

DEFAULT_RUNNER_IMAGE: Final = "ghcr.io/atomesh/atomesh:0.1.0"
BRANCH_PREFIX: Final = "atomesh"

# Environment of the runner steps: the pod builder sets these, the runner reads them.
# Paths are pod paths; the local kubelet maps values under a volume mount to its host directory.
ENV_RUN_FILE: Final = "ATOMESH_RUN_FILE"
ENV_WORKSPACE: Final = "ATOMESH_WORKSPACE"
ENV_STATE_DIR: Final = "ATOMESH_STATE_DIR"
ENV_TERMINATION_MESSAGE_PATH: Final = "ATOMESH_TERMINATION_MESSAGE_PATH"
ENV_FORGE_API_URL: Final = "ATOMESH_FORGE_API_URL"
ENV_FORGE_GIT_URL: Final = "ATOMESH_FORGE_GIT_URL"
ENV_FORGE_TOKEN: Final = "ATOMESH_FORGE_TOKEN"  # noqa: S105 - a variable name, not a secret
# GitHub App auth, the alternative to a token: the forge mints installation tokens itself.
ENV_FORGE_APP_ID: Final = "ATOMESH_FORGE_APP_ID"
# The operator's HMAC secret for GitHub webhooks (never given to runner pods).
ENV_WEBHOOK_SECRET: Final = "ATOMESH_WEBHOOK_SECRET"  # noqa: S105 - a variable name
ENV_FORGE_APP_PRIVATE_KEY: Final = "ATOMESH_FORGE_APP_PRIVATE_KEY"
ENV_FORGE_APP_INSTALLATION_ID: Final = "ATOMESH_FORGE_APP_INSTALLATION_ID"
ENV_MODEL_BASE_URL: Final = "ATOMESH_MODEL_BASE_URL"
ENV_MODEL_API_KEY: Final = "ATOMESH_MODEL_API_KEY"
ENV_CONTEXT_DIR: Final = "ATOMESH_CONTEXT_DIR"
# The model proxy (a sidecar of the runner pod) holds the key; the agent step gets only the directory
# where the proxy publishes its loopback URL and the run's token, on a volume no other step mounts.
RUNNER_CONTAINER_MODEL_PROXY: Final = "model-proxy"
ENV_MODEL_UPSTREAM_URL: Final = "ATOMESH_MODEL_UPSTREAM_URL"
ENV_MODEL_PROXY_DIR: Final = "ATOMESH_MODEL_PROXY_DIR"
ENV_MODEL_PROXY_PORT: Final = "ATOMESH_MODEL_PROXY_PORT"
MODEL_PROXY_MOUNT: Final = "/var/run/atomesh/model"
MODEL_PROXY_URL_FILE: Final = "url"
MODEL_PROXY_TOKEN_FILE: Final = "token"  # noqa: S105 - a file name
# Written by the proxy when it refuses a request because the run reached a hard limit: the run pauses.
MODEL_PROXY_PAUSED_FILE: Final = "paused"
WORKSPACE_DIR: Final = f"{WORK_MOUNT}/repo"
STATE_DIR: Final = f"{WORK_MOUNT}/state"
# ConfigMap contexts are mounted read-only under here, one folder per Context (the agent step reads them).
CONTEXT_MOUNT: Final = "/etc/atomesh/context"
# The harness session of a run, in the workspace repository: a hidden ref a revision resumes from.
SESSION_REF_PREFIX: Final = f"refs/{BRANCH_PREFIX}/sessions"
