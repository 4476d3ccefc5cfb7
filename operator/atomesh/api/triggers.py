"""Event triggers of an Agent (`spec.triggers.events`): which deliveries start a run, who may start one,
and how the delivery becomes the run's input.

Shaped after GitHub Actions' `on:` (event, types, branches, paths), Tekton Triggers (an interceptor's
CEL `filter` and bindings from the body) and Argo Events (a webhook source with its secret in a
Secret). One entry is one trigger with a name unique in the Agent; it has exactly one source:

    events:
      - name: opened
        github: {event: issues, actions: [opened]}
        input: {issue: "payload.issue.number", summary: "payload.issue.title"}
        authorization: {permission: none}
      - name: fix
        github: {event: issue_comment, command: fix}     # "/fix key=value ..." or "/atomesh <agent> ..."
      - name: ticket
        webhook: {secretRef: {name: crm-hook, key: secret}}
        filter: "payload.priority == 'high'"
        input: {ticket: "payload.id"}
      - name: fix-ci                                      # commits to the failing pull request's branch
        github: {event: check_run, actions: [completed], conclusions: [failure]}
        publish: pullRequestBranch

Expressions are CEL (the Kubernetes and fullsend filter language). Their variables: `payload` (the
delivery's JSON body), `event` (the GitHub event name, or `webhook`), `action` (the payload's
action, '' when none), `sender` (login, '' when none), `args` (the `key=value` words of a slash
command, strings). The models only hold the text; `core.triggers_cel` compiles it and
`atomesh lint` reports a bad expression at its field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from atomesh.api.common import DNS_LABEL_PATTERN, DURATION_PATTERN, SecretKeyRef, SpecModel, parse_duration
from atomesh.api.rules import EXACTLY_ONE_EVENT_SOURCE

GitHubEvent = Literal["issues", "issue_comment", "pull_request", "push", "check_run", "check_suite"]
GITHUB_EVENTS: tuple[GitHubEvent, ...] = ("issues", "issue_comment", "pull_request", "push", "check_run", "check_suite")
Permission = Literal["none", "read", "triage", "write", "maintain", "admin"]
PERMISSIONS: tuple[Permission, ...] = ("none", "read", "triage", "write", "maintain", "admin")
EventConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]
PublishTarget = Literal["newPullRequest", "pullRequestBranch"]
# Events whose payload names the pull request and its head branch (and whether it comes from a fork).
PULL_REQUEST_BRANCH_EVENTS: tuple[GitHubEvent, ...] = ("pull_request", "check_run", "check_suite")
AuthorAssociation = Literal[
    "OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE"
]
# CEL text is bounded so a manifest cannot carry an unbounded program.
CelExpression = Annotated[str, Field(min_length=1, max_length=2048)]
Glob = Annotated[str, Field(min_length=1, max_length=256)]
COMMAND_PATTERN = r"^[a-z][a-z0-9-]{0,38}$"
# An organization login, then a team slug (GitHub makes slugs of lower-case letters, digits, - and _).
TEAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$"


class GitHubTrigger(SpecModel):
    """A GitHub webhook event, narrowed the way GitHub Actions' `on:` narrows it."""

    event: GitHubEvent = Field(
        description="GitHub event: issues, issue_comment, pull_request, push, check_run or check_suite."
    )
    repository: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description="Repository as owner/name whose events count; defaults to spec.workspace.repo.",
    )
    actions: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=32,
        description=(
            "Payload actions that count (opened, labeled, synchronize, created, completed, ...); empty: "
            "issue_comment counts created, the others every action."
        ),
    )
    labels: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list,
        max_length=32,
        description="issues and pull_request: the issue or pull request must carry one of these labels.",
    )
    branches: list[Glob] = Field(
        default_factory=list,
        max_length=32,
        description="push: the pushed branch; pull_request: its base branch; check_*: the head branch (globs).",
    )
    paths: list[Glob] = Field(
        default_factory=list,
        max_length=32,
        description="push: a file added, modified or removed by the push must match one of these globs.",
    )
    conclusions: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list,
        max_length=16,
        description="check_run and check_suite: conclusions that count (failure, timed_out, success, ...).",
    )
    command: str | None = Field(
        default=None,
        pattern=COMMAND_PATTERN,
        description=(
            "issue_comment: the slash command, `/<command> key=value ...`; `/atomesh <agent> key=value ...` "
            "always works. Without it any comment that passes the filter counts."
        ),
    )


class WebhookTrigger(SpecModel):
    """A generic webhook (Slack, a CRM, a ticketing system) signed with HMAC SHA-256.

    It is POSTed to `/webhooks/agents/<namespace>/<agent>/<trigger>` with the header
    `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>` (GitHub's scheme, which many senders offer)
    and, optionally, `X-Delivery-ID` for exactly-once redeliveries (else the body's digest is the id).
    """

    secret_ref: SecretKeyRef = Field(description="Secret key holding the HMAC secret of this trigger.")


class TriggerAuthorization(SpecModel):
    """Who may start a run. A sender passes with any of: an allowed author association, a user on the
    list, at least `permission` on the repository, or active membership of a team on the list. Bots never
    pass unless `allowBots`."""

    permission: Permission = Field(
        default="write",
        description="Least repository permission of the sender (none, read, triage, write, maintain, admin).",
    )
    author_associations: list[AuthorAssociation] = Field(
        default_factory=list,
        max_length=8,
        description="Author associations that pass without a permission lookup (OWNER, MEMBER, COLLABORATOR, ...).",
    )
    users: list[Annotated[str, Field(min_length=1, max_length=39)]] = Field(
        default_factory=list, max_length=256, description="Logins that always pass."
    )
    teams: list[Annotated[str, Field(min_length=3, max_length=140, pattern=TEAM_PATTERN)]] = Field(
        default_factory=list,
        max_length=32,
        description=(
            "Teams as org/team-slug (as in CODEOWNERS, without the @) whose active members pass; the "
            "operator's forge credentials must be able to read the team's memberships."
        ),
    )
    allow_bots: bool = Field(default=False, description="Let bot accounts (type Bot, login ending [bot]) trigger.")


class EventTrigger(SpecModel):
    """One event trigger: a source, an optional CEL filter, the run input it maps, and who may trigger."""

    model_config = SpecModel.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["github"]}, {"required": ["webhook"]}]}
    }

    name: str = Field(
        min_length=1, max_length=40, pattern=DNS_LABEL_PATTERN, description="Name of the trigger, unique in the Agent."
    )
    github: GitHubTrigger | None = Field(default=None, description="A GitHub event (or use webhook).")
    webhook: WebhookTrigger | None = Field(default=None, description="A signed generic webhook (or use github).")
    filter: CelExpression | None = Field(
        default=None, description="CEL expression that must be true for the delivery to start a run."
    )
    input: dict[str, CelExpression] = Field(
        default_factory=dict,
        description=(
            "Run input: key -> CEL expression over the delivery. A slash command's key=value words are added "
            "after it. The result must satisfy spec.input.schema."
        ),
    )
    authorization: TriggerAuthorization = Field(
        default_factory=TriggerAuthorization,
        description="Who may trigger (GitHub sources only; a webhook's signature is its authorisation).",
    )
    cooldown: str | None = Field(
        default=None,
        pattern=DURATION_PATTERN,
        description=(
            "Least time between two runs this trigger starts for the same issue, pull request or branch, "
            "such as 10m; a delivery within it starts nothing."
        ),
    )
    publish: PublishTarget = Field(
        default="newPullRequest",
        description=(
            "Where the run's change goes: newPullRequest (its own branch and pull request), or "
            "pullRequestBranch: a commit pushed to the head branch of the delivery's pull request, as a "
            "fix-CI bot does (pull_request, check_run and check_suite only; never for pull requests from "
            "forks, nor onto the default or a protected branch)."
        ),
    )
    concurrency_policy: EventConcurrencyPolicy = Field(
        default="Forbid",
        description=(
            "While a run this trigger started for the same issue or pull request (a push: the same branch) is "
            "Pending or Running: Forbid a new one, Replace it (cancel it), or Allow both."
        ),
    )

    @field_validator("cooldown")
    @classmethod
    def _cooldown_is_positive(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> EventTrigger:
        if (self.github is None) == (self.webhook is None):
            raise ValueError(EXACTLY_ONE_EVENT_SOURCE)
        return self


class EventRateLimit(SpecModel):
    """At most `runs` event-triggered runs of the Agent in any window of `per` (all its triggers together)."""

    runs: int = Field(ge=1, le=10000, description="Runs allowed in the window.")
    per: str = Field(default="1h", pattern=DURATION_PATTERN, description="The window, such as 1h or 30m.")

    @field_validator("per")
    @classmethod
    def _per_is_positive(cls, value: str) -> str:
        parse_duration(value)
        return value


__all__ = [
    "EXACTLY_ONE_EVENT_SOURCE",
    "GITHUB_EVENTS",
    "PERMISSIONS",
    "PULL_REQUEST_BRANCH_EVENTS",
    "EventRateLimit",
    "EventTrigger",
    "GitHubTrigger",
    "TriggerAuthorization",
    "WebhookTrigger",
]
