"""`atomesh dev --demo`: one example agent through the whole loop, printed step by step.

Applies agents/issue-triage.yaml as it is (only `spec.harness.kind` follows `--harness`), waits
until the Agent is Ready, creates an AgentRun, follows its pod and phases, and once the run is
AwaitingReview merges the pull request through the GitHub REST API as the `reviewer` user would
(PyGithub against the emulator). Exit 0 when the run is Succeeded; 1 with the reason when it
ends otherwise or the time runs out; 130 when interrupted. The demo prints no credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from github import Auth, Github
from pydantic import ValidationError

from atomesh.api.agentrun import AgentRunStatus
from atomesh.api.constants import (
    LABEL_MESH,
    RUNNER_CONTAINER_AGENT,
    RUNNER_CONTAINER_CHECKOUT,
    RUNNER_CONTAINER_PUBLISH,
)
from atomesh.api.mesh import Mesh
from atomesh.commands.dev import Built
from atomesh.core.graph import roots, topological_order
from atomesh.core.meshplan import mesh_run_name, new_execution_id
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.devstack.stack import GitHubComponent, KubeEndpoint
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, PODS

DEMO_AGENT = "issue-triage"
DEMO_INPUT = {"issue": 1, "summary": 'greet("") returns "Hello, !" instead of rejecting the empty name.'}
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


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every object in the YAML files of `directory` (the example agents and meshes)."""
    found: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(doc, dict)]
    return found


def mesh_manifests(directory: Path, name: str, harness: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Mesh `name` of `directory` and the Agents its nodes run (with the chosen harness)."""
    objects = load_manifests(directory)
    mesh = next((o for o in objects if o.get("kind") == "Mesh" and o.get("metadata", {}).get("name") == name), None)
    if mesh is None:
        meshes = sorted(o["metadata"]["name"] for o in objects if o.get("kind") == "Mesh")
        raise FileNotFoundError(f"--mesh {name}: no Mesh of that name in {directory} (there: {', '.join(meshes)})")
    wanted = {node["agentRef"]["name"] for node in mesh["spec"]["agents"]}
    agents = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Agent" and o["metadata"]["name"] in wanted}
    missing = sorted(wanted - set(agents))
    if missing:
        raise FileNotFoundError(f"--mesh {name}: the Agents {', '.join(missing)} are not in {directory}")
    chosen = [copy.deepcopy(agents[agent]) for agent in sorted(wanted)]
    for manifest in chosen:
        manifest["spec"].setdefault("harness", {})["kind"] = harness
    return mesh, chosen


def preflight(args: argparse.Namespace) -> None:
    """Everything the demo needs, checked before the stack starts (ValueError/FileNotFoundError)."""
    if args.mesh:
        mesh_manifests(args.agents, args.mesh, args.harness)
    if args.only is not None:
        wanted = {name.strip() for name in args.only.split(",")}
        missing = [name for name in NEEDS if name not in wanted]
        if missing:
            raise ValueError(f"--demo needs the components {', '.join(NEEDS)}; --only leaves out {', '.join(missing)}")
    manifest = args.agents / f"{DEMO_AGENT}.yaml"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"--agents {args.agents}: no {DEMO_AGENT}.yaml there; run from the atomesh repository or pass --agents DIR"
        )
    cli = CLIS.get(args.harness)
    if cli is not None and shutil.which(cli) is None:
        raise ValueError(
            f"--harness {args.harness} needs the `{cli}` CLI on PATH (`make harnesses` installs it under "
            "node_modules/.bin; `make dev` puts it on PATH); --harness litellm needs none"
        )


def demo_run(name: str, agent: str, namespace: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A run as a user would start it by hand, with the demo's input."""
    request = RunRequest(
        name=name,
        agent=agent,
        trigger="manual",
        source="demo",
        namespace=namespace,
        input=DEMO_INPUT,
        labels=labels or {},
    )
    return build_run(request)


def demo_agent(path: Path, harness: str) -> dict[str, Any]:
    """The example Agent as it is in agents/, with the chosen harness."""
    manifest: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    manifest = copy.deepcopy(manifest)
    manifest["spec"].setdefault("harness", {})["kind"] = harness
    return manifest


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
        self.kube.create(AGENT_RUNS, demo_run(name, agent, self.namespace))
        self.say(f"created AgentRun {name} (input issue {DEMO_INPUT['issue']})")
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
                self.report_phase(name, status)
                if phase == "AwaitingReview":
                    self.merge(status)
                elif phase == "Succeeded":
                    return
                elif phase in TERMINAL_FAILURES:
                    raise DemoFailed(f"AgentRun {name} ended {phase}: {status.reason}: {status.message}")
            self.tick(f"AgentRun {name} to finish (phase {phase})")

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
        if status.phase == "AwaitingReview":
            if status.artifact is not None:
                self.say(f"  {status.artifact.type} artifact: {', '.join(status.artifact.files)}")
            if status.usage is not None:
                usage = status.usage
                self.say(
                    f"  model usage: {usage.turns} turns, {usage.input_tokens} input and "
                    f"{usage.output_tokens} output tokens, ${usage.cost_usd:.4f}"
                )

    def merge(self, status: AgentRunStatus) -> None:
        review = status.review
        if review is None or review.repo is None or review.number is None:
            raise DemoFailed("the run awaits review but names no pull request")
        accounts = self.github.accounts
        if accounts is None:
            raise DemoFailed("the GitHub emulator is not running")
        client = Github(base_url=self.github.api_url, auth=Auth.Token(accounts.reviewer_token), retry=None)
        try:
            pull = client.get_repo(review.repo).get_pull(review.number)
            result = pull.merge(merge_method="merge", commit_title=f"Merge pull request #{review.number}")
        finally:
            client.close()
        if not result.merged:
            raise DemoFailed(f"merging pull request #{review.number} failed: {result.message}")
        self.say(f"{accounts.reviewer} merged pull request #{review.number} through the GitHub API ({result.sha[:12]})")


class MeshDemo(Demo):
    """`--mesh NAME`: apply the mesh's Agents and the Mesh, start its root node, then follow each node's
    run in graph order, merging every pull request as the reviewer would, until all have Succeeded."""

    done = "every node's change is merged into main"

    def __init__(self, *args: Any, mesh: dict[str, Any], agents: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mesh_manifest = mesh
        self.agents = agents

    def _run(self) -> None:
        for manifest in self.agents:
            self.manifest = manifest
            self.wait_ready(self.apply_agent())
        mesh = self.apply_mesh()
        root = roots(mesh.spec)[0]
        agent = next(node.agent_ref.name for node in mesh.spec.agents if node.name == root)
        seed = self.start(mesh, root, agent)
        execution = new_execution_id(mesh.metadata.name, seed)
        for node in topological_order(mesh.spec):
            name = seed if node == root else mesh_run_name(mesh.metadata.name, execution, node)
            if node != root:
                run = self.wait(f"the mesh to start node {node}", self.getter(name))
                trigger = (run.get("spec") or {}).get("trigger") or {}
                self.say(f"node {node}: AgentRun {name} created by the mesh (trigger {trigger.get('source')})")
            self.follow(name)
        self.say(f"every node of mesh {mesh.metadata.name} has Succeeded (execution {execution})")

    def getter(self, name: str) -> Callable[[], dict[str, Any] | None]:
        return lambda: self.kube.get(AGENT_RUNS, self.namespace, name)

    def apply_mesh(self) -> Mesh:
        mesh = Mesh.model_validate(self.mesh_manifest)
        name = mesh.metadata.name
        body = {**self.mesh_manifest, "metadata": {**self.mesh_manifest["metadata"], "namespace": self.namespace}}
        _, created = self.kube.create(MESHES, body)
        if not created:
            self.kube.patch(MESHES, self.namespace, name, {"spec": body["spec"]})
        edges = ", ".join(f"{edge.from_} -> {edge.to} ({edge.when})" for edge in mesh.spec.edges)
        self.say(f"applied Mesh {name} (edges: {edges})")

        def ready() -> dict[str, Any] | None:
            found = self.kube.get(MESHES, self.namespace, name) or {}
            status = found.get("status") or {}
            if status.get("observedGeneration") != found.get("metadata", {}).get("generation"):
                return None
            conditions = {c.get("type"): c for c in status.get("conditions") or []}
            stalled = conditions.get("Stalled") or {}
            if stalled.get("status") == "True":
                raise DemoFailed(f"Mesh {name} is Stalled: {stalled.get('message')}")
            return status if (conditions.get("Ready") or {}).get("status") == "True" else None

        status = self.wait(f"Mesh {name} to be Ready", ready)
        self.say(f"Mesh {name} is Ready ({status.get('agentsSummary')} agents ready)")
        return mesh

    def start(self, mesh: Mesh, node: str, agent: str) -> str:
        """A user's way to start an execution: an AgentRun of a root node labelled with the mesh."""
        name = run_name(mesh.metadata.name, f"-{secrets.token_hex(3)}")
        self.kube.create(AGENT_RUNS, demo_run(name, agent, self.namespace, {LABEL_MESH: mesh.metadata.name}))
        self.say(
            f"started mesh {mesh.metadata.name}: AgentRun {name} for root node {node} "
            f"(input issue {DEMO_INPUT['issue']})"
        )
        return name


async def run_demo(args: argparse.Namespace, built: Built, stopping: asyncio.Event) -> int:
    """The demo in a worker thread (its clients block), stopped early by Ctrl-C or SIGTERM."""
    kube_component, github = built.get("kube"), built.get("github")
    if not isinstance(kube_component, KubeEndpoint) or not isinstance(github, GitHubComponent):
        raise ValueError("--demo needs the kube and github components")
    namespace = str(getattr(built.get("operator"), "namespace", "default"))
    print(f"\nThe stack is up (KUBECONFIG={args.kubeconfig.resolve()}). Demo:", flush=True)
    cancel = threading.Event()
    kube = RestKube.from_kubeconfig(str(kube_component.kubeconfig))
    say: Callable[[str], None] = lambda line: print(f"demo       {line}", flush=True)  # noqa: E731
    demo: Demo
    if args.mesh:
        mesh, agents = mesh_manifests(args.agents, args.mesh, args.harness)
        demo = MeshDemo(
            kube,
            github,
            namespace=namespace,
            manifest=agents[0],
            timeout=args.timeout,
            cancel=cancel,
            say=say,
            mesh=mesh,
            agents=agents,
        )
    else:
        demo = Demo(
            kube,
            github,
            namespace=namespace,
            manifest=demo_agent(args.agents / f"{DEMO_AGENT}.yaml", args.harness),
            timeout=args.timeout,
            cancel=cancel,
            say=say,
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
