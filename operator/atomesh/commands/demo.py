"""`atomesh dev --demo`: one example agent through the whole loop, printed step by step.

Applies the Agent `--agent NAME` (default issue-triage) from the manifests in `--agents DIR` as
it is (only `spec.harness.kind` follows `--harness`), waits until the Agent is Ready, creates an
AgentRun with the agent's demo input, follows its pod and phases, and once the run is
AwaitingReview merges the pull request through the GitHub REST API as the `reviewer` user would
(PyGithub against the emulator); an agent with `review.autoMerge` is left for atomesh to merge.
Exit 0 when the run is Succeeded; 1 with the reason when it ends otherwise or the time runs out;
130 when interrupted. The demo prints no credentials.

Which manifests and inputs it runs: `atomesh.commands.examples`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from github import Auth, Github
from pydantic import ValidationError

from atomesh.api.agentrun import AgentRunStatus
from atomesh.api.constants import (
    LABEL_MESH,
    RUNNER_CONTAINER_AGENT,
    RUNNER_CONTAINER_CHECKOUT,
    RUNNER_CONTAINER_PUBLISH,
)
from atomesh.commands.dev import Built, say
from atomesh.commands.examples import (
    DEMO_AGENT,
    demo_agent,
    demo_input,
    describe_input,
    find_agent,
    mesh_manifests,
)
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.devstack.stack import GitHubComponent, KubeEndpoint
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, PODS

NEEDS = ("kube", "kubelet", "github", "operator")
CLIS = {"claude-code": "claude", "opencode": "opencode"}
TERMINAL_FAILURES = ("Rejected", "Failed", "Cancelled")
STEPS = (RUNNER_CONTAINER_CHECKOUT, RUNNER_CONTAINER_AGENT, RUNNER_CONTAINER_PUBLISH)
POLL_SECONDS = 0.25
T = TypeVar("T")


class DemoFailed(Exception):
    """The demo cannot go on; the message says why."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM while the demo runs."""


def preflight(args: argparse.Namespace) -> None:
    """Everything the demo needs, checked before the stack starts (ValueError/FileNotFoundError)."""
    if args.mesh:
        mesh_manifests(args.agents, args.mesh, args.harness)
    if args.only is not None:
        wanted = {name.strip() for name in args.only.split(",")}
        missing = [name for name in NEEDS if name not in wanted]
        if missing:
            raise ValueError(f"--demo needs the components {', '.join(NEEDS)}; --only leaves out {', '.join(missing)}")
    if not args.mesh:
        agent = find_agent(args.agents, args.agent or DEMO_AGENT)
        demo_input(agent)
    cli = CLIS.get(args.harness)
    if cli is not None and shutil.which(cli) is None:
        raise ValueError(
            f"--harness {args.harness} needs the `{cli}` CLI on PATH (`make harnesses` installs it under "
            "node_modules/.bin; `make dev` puts it on PATH); --harness litellm needs none"
        )


DEMO_SOURCE = "demo"  # the trigger source of the runs the demo starts


def reported_by_demo(mesh: str | None, run: Mapping[str, Any]) -> bool:
    """Whether the demo follows `run` and prints its steps itself: the runs it starts, and with --mesh
    every run of that mesh."""
    trigger = ((run.get("spec") or {}).get("trigger") or {}).get("source")
    labels = (run.get("metadata") or {}).get("labels") or {}
    return trigger == DEMO_SOURCE or (mesh is not None and labels.get(LABEL_MESH) == mesh)


def demo_run(
    name: str, agent: str, namespace: str, value: dict[str, Any], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A run as a user would start it by hand, with the demo's input."""
    request = RunRequest(
        name=name,
        agent=agent,
        trigger="manual",
        source=DEMO_SOURCE,
        namespace=namespace,
        input=value,
        labels=labels or {},
    )
    return build_run(request)


class Demo:
    done = "the agent's change is merged into main"

    def __init__(
        self,
        kube: RestKube,
        github: GitHubComponent,
        *,
        namespace: str,
        manifest: dict[str, Any],
        timeout: float,
        cancel: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        self.kube = kube
        self.github = github
        self.namespace = namespace
        self.manifest = manifest
        self.applied: dict[str, dict[str, Any]] = {}  # Agent name -> the manifest applied
        self.cancel = cancel
        self.say = say
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def run(self) -> int:
        started = time.monotonic()
        try:
            self._run()
        except DemoFailed as failure:
            self.say(f"FAILED: {failure}")
            return 1
        except Interrupted:
            self.say("interrupted")
            return 130
        self.say(f"done in {time.monotonic() - started:.1f} s: {self.done}")
        return 0

    def _run(self) -> None:
        agent = self.apply_agent()
        self.wait_ready(agent)
        name = self.create_run(agent)
        self.follow(name)

    # -- waiting -----------------------------------------------------------------------------

    def wait(self, what: str, check: Callable[[], T | None]) -> T:
        """Poll `check` until it returns a value; bounded by the demo's one deadline."""
        while True:
            value = check()
            if value is not None:
                return value
            self.tick(what)

    def tick(self, what: str) -> None:
        if self.cancel.is_set():
            raise Interrupted
        if time.monotonic() > self.deadline:
            raise DemoFailed(f"timed out after {self.timeout:g} s waiting for {what}")
        self.cancel.wait(POLL_SECONDS)

    # -- the steps ---------------------------------------------------------------------------

    def apply_agent(self) -> str:
        name: str = self.manifest["metadata"]["name"]
        self.applied[name] = self.manifest
        body = {**self.manifest, "metadata": {**self.manifest["metadata"], "namespace": self.namespace}}
        _, created = self.kube.create(AGENTS, body)
        if not created:  # a kept --state: bring it back to the example
            self.kube.patch(AGENTS, self.namespace, name, {"spec": body["spec"]})
        harness = self.manifest["spec"]["harness"]["kind"]
        self.say(f"applied Agent {name} (harness {harness}, repository {self.manifest['spec']['workspace']['repo']})")
        return name

    def wait_ready(self, name: str) -> None:
        def ready() -> dict[str, Any] | None:
            agent = self.kube.get(AGENTS, self.namespace, name) or {}
            status = agent.get("status") or {}
            if status.get("observedGeneration") != agent.get("metadata", {}).get("generation"):
                return None
            condition = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
            if condition and condition.get("status") == "False" and condition.get("reason") != "Reconciling":
                raise DemoFailed(f"Agent {name} is not Ready: {condition.get('message')}")
            return status if condition and condition.get("status") == "True" else None

        status = self.wait(f"Agent {name} to be Ready", ready)
        self.say(f"Agent {name} is Ready (revision {status.get('revision') or '?'})")

    def create_run(self, agent: str) -> str:
        name = run_name(agent, f"-{secrets.token_hex(3)}")
        value = demo_input(self.manifest)
        self.kube.create(AGENT_RUNS, demo_run(name, agent, self.namespace, value))
        self.say(f"created AgentRun {name} (input {describe_input(value)})")
        return name

    def follow(self, name: str) -> None:
        seen: set[str] = set()
        phase: str | None = None
        while True:
            status = self.status(name)
            if status.pod_name and f"pod:{status.pod_name}" not in seen:
                seen.add(f"pod:{status.pod_name}")
                self.say(f"pod {status.pod_name} created (steps: {', '.join(STEPS)})")
            if status.pod_name:
                self.report_steps(status.pod_name, seen)
            if status.phase != phase:
                phase = status.phase
                # The result after the line naming the pull request, or, for a run that got past review
                # between two polls (autoMerge), before the line saying it ended.
                if phase == "AwaitingReview":
                    self.report_phase(name, status)
                self.report_result(status, seen)
                if phase != "AwaitingReview":
                    self.report_phase(name, status)
                if phase == "AwaitingReview" and self.auto_merges(name):
                    self.say("  review.autoMerge: atomesh merges it once the checks pass")
                elif phase == "AwaitingReview":
                    self.merge(status)
                elif phase == "Succeeded":
                    return
                elif phase in TERMINAL_FAILURES:
                    raise DemoFailed(f"AgentRun {name} ended {phase}: {status.reason}: {status.message}")
            self.tick(f"AgentRun {name} to finish (phase {phase})")

    def auto_merges(self, run: str) -> bool:
        """Whether atomesh merges the run's pull request itself (its Agent's `review.autoMerge`)."""
        found = self.kube.get(AGENT_RUNS, self.namespace, run) or {}
        agent = str(((found.get("spec") or {}).get("agentRef") or {}).get("name"))
        review = (self.applied.get(agent, {}).get("spec") or {}).get("review") or {}
        return bool(review.get("autoMerge") == "whenChecksPass")

    def status(self, name: str) -> AgentRunStatus:
        run = self.kube.get(AGENT_RUNS, self.namespace, name)
        if run is None:
            raise DemoFailed(f"AgentRun {name} disappeared")
        try:
            return AgentRunStatus.model_validate(run.get("status") or {})
        except ValidationError as error:
            raise DemoFailed(f"AgentRun {name} has a status this demo does not understand: {error}") from None

    def report_steps(self, pod_name: str, seen: set[str]) -> None:
        pod = self.kube.get(PODS, self.namespace, pod_name) or {}
        status = pod.get("status") or {}
        states = {
            entry.get("name"): (entry.get("state") or {})
            for entry in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
        }
        for step in STEPS:
            state = states.get(step) or {}
            for key in ("running", "terminated"):
                if key in state and f"{step}:{key}" not in seen:
                    seen.add(f"{step}:{key}")
                    self.say(f"  step {step} {self.describe_state(key, state[key])}")

    @staticmethod
    def describe_state(key: str, state: dict[str, Any]) -> str:
        if key == "running":
            return "running"
        code = state.get("exitCode")
        return "done" if code == 0 else f"failed (exit {code}, {state.get('reason') or 'Error'})"

    def report_phase(self, name: str, status: AgentRunStatus) -> None:
        line = f"AgentRun {name}: {status.phase}"
        if status.phase == "AwaitingReview" and status.review is not None:
            line += f", pull request {status.review.url}"
        elif status.phase == "Succeeded" and status.review is not None:
            line += f", merged by {status.review.decided_by} ({(status.review.merge_commit or '')[:12]})"
        elif status.message:
            line += f" ({status.message})"
        self.say(line)

    def report_result(self, status: AgentRunStatus, seen: set[str]) -> None:
        """The artifact, the model usage and the pull request's surface, once each, as soon as the run has
        them (an autoMerge run may pass AwaitingReview between two polls)."""
        if status.artifact is not None and "artifact" not in seen:
            seen.add("artifact")
            self.say(f"  {status.artifact.type} artifact: {', '.join(status.artifact.files)}")
            if status.usage is not None:
                usage = status.usage
                self.say(
                    f"  model usage: {usage.turns} turns, {usage.input_tokens} input and "
                    f"{usage.output_tokens} output tokens, ${usage.cost_usd:.4f}"
                )
        review = status.review
        if review is not None and review.repo and review.number and "surface" not in seen:
            seen.add("surface")
            self.report_surface(review.repo, review.number)

    def report_surface(self, repo: str, number: int) -> None:
        """What a reviewer sees on the pull request: title, labels, who is asked, the body's sections."""
        client = self.reviewer_client()
        try:
            pull = client.get_repo(repo).get_pull(number)
            labels = ", ".join(label.name for label in pull.labels) or "none"
            users, teams = pull.get_review_requests()
            asked = [user.login for user in users] + [f"team {team.slug}" for team in teams]
            sections = [line[4:].strip() for line in (pull.body or "").splitlines() if line.startswith("### ")]
            self.say(
                f'  pull request #{number} "{pull.title}" (labels: {labels}; review requested from: '
                f"{', '.join(asked) or 'nobody'})"
            )
            self.say(f"  surface: {', '.join(sections) or 'no sections'}")
            runs = sorted(
                f"{run.name} {run.conclusion or run.status}"
                for run in pull.head.repo.get_commit(pull.head.sha).get_check_runs()
            )
            self.say(f"  check runs: {', '.join(runs) or 'none'}")
        finally:
            client.close()

    def reviewer_client(self) -> Github:
        accounts = self.github.accounts
        if accounts is None:
            raise DemoFailed("the GitHub emulator is not running")
        return Github(base_url=self.github.api_url, auth=Auth.Token(accounts.reviewer_token), retry=None)

    def merge(self, status: AgentRunStatus) -> None:
        review = status.review
        if review is None or review.repo is None or review.number is None:
            raise DemoFailed("the run awaits review but names no pull request")
        accounts = self.github.accounts
        if accounts is None:
            raise DemoFailed("the GitHub emulator is not running")
        client = self.reviewer_client()
        try:
            pull = client.get_repo(review.repo).get_pull(review.number)
            result = pull.merge(merge_method="merge", commit_title=f"Merge pull request #{review.number}")
        finally:
            client.close()
        if not result.merged:
            raise DemoFailed(f"merging pull request #{review.number} failed: {result.message}")
        self.say(f"{accounts.reviewer} merged pull request #{review.number} through the GitHub API ({result.sha[:12]})")


async def run_demo(args: argparse.Namespace, built: Built, stopping: asyncio.Event) -> int:
    """The demo in a worker thread (its clients block), stopped early by Ctrl-C or SIGTERM."""
    kube_component, github = built.get("kube"), built.get("github")
    if not isinstance(kube_component, KubeEndpoint) or not isinstance(github, GitHubComponent):
        raise ValueError("--demo needs the kube and github components")
    namespace = str(getattr(built.get("operator"), "namespace", "default"))
    say(f"\nThe stack is up (KUBECONFIG={args.kubeconfig.resolve()}). Demo:")
    cancel = threading.Event()
    kube = RestKube.from_kubeconfig(str(kube_component.kubeconfig))
    demo_say: Callable[[str], None] = lambda line: say(f"demo       {line}")  # noqa: E731
    demo: Demo
    if args.mesh:
        from atomesh.commands.demo_mesh import MeshDemo  # it builds on Demo, so it imports this module

        mesh, agents = mesh_manifests(args.agents, args.mesh, args.harness)
        demo = MeshDemo(
            kube,
            github,
            namespace=namespace,
            manifest=agents[0],
            timeout=args.timeout,
            cancel=cancel,
            say=demo_say,
            mesh=mesh,
            agents=agents,
        )
    else:
        from atomesh.commands.demo_trigger import TriggerDemo  # it builds on Demo, so it imports this module

        demo = (TriggerDemo if args.trigger else Demo)(
            kube,
            github,
            namespace=namespace,
            manifest=demo_agent(find_agent(args.agents, args.agent or DEMO_AGENT), args.harness),
            timeout=args.timeout,
            cancel=cancel,
            say=demo_say,
        )
    try:
        worker = asyncio.ensure_future(asyncio.to_thread(demo.run))
        interrupt = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({worker, interrupt}, return_when=asyncio.FIRST_COMPLETED)
        cancel.set()  # ends the worker's waits at once when interrupted; harmless otherwise
        interrupt.cancel()
        return await worker
    finally:
        kube.close()
