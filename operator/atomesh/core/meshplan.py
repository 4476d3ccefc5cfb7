"""The mesh planner: from a Mesh, its Agents and its AgentRuns to the runs to create, release or adopt.

Level-based and pure, so the operator may call it on every event and after every restart:

* Exactly once. A downstream run is named `<mesh>-<execution>-<node>` (hashed to fit), and a node
  that already has a run in an execution is never started again in it. Planning twice, or after a
  crash between "create" and "record", yields the same name, and the API server answers
  AlreadyExists instead of creating a duplicate. (Keep an execution's runs together when pruning
  history: a deleted downstream run would look like one never created.)
* Executions. A user starts one by creating an AgentRun of a root node labelled
  `atomesh.io/mesh=<mesh>`; the plan *adopts* it, labelling it with its node and
  `atomesh.io/mesh-execution=<new_execution_id(mesh, run name)>`. Every run of the flow carries it.
* Edges. A node starts in an execution once every edge into it is satisfied: `accepted` by an
  upstream run Succeeded with a merged pull request, `completed` once all the upstream node's runs
  (revisions included) are terminal. An `accepted` edge whose upstream ended without a merge stops
  that branch (reported in `stopped`).
* Limits. New, adopted and queued runs pass one gate in FIFO order: `suspend`, the daily budget
  (`maxCostUSDPerDay`, UTC day) and `maxActiveRuns`. A run that may not start yet is still created
  (or adopted), with the annotation `atomesh.io/queued=<why>`; the AgentRun controller keeps such a
  run Pending with reason Queued and creates no pod. `release` lists queued runs whose annotation
  the operator removes once a slot is free. Nothing is dropped.
* Input. Each edge's `input` expressions are evaluated against its upstream run; a key that cannot be
  mapped is recorded on the created run as `atomesh.io/input-error`, and admission fails that run
  with reason InvalidInput and the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, TERMINAL_PHASES, AgentRun
from atomesh.api.common import Condition
from atomesh.api.constants import ANNOTATION_QUEUED, LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.api.mesh import Mesh, MeshEdge, MeshStatus
from atomesh.core.conditions import condition
from atomesh.core.graph import roots, topological_order, upstreams
from atomesh.core.hashing import short_hash
from atomesh.core.meshcheck import graph_problems
from atomesh.core.meshexpr import map_input, upstream_fields
from atomesh.core.meshruns import RELEASE_PATCH, Adoption, PlannedRun, queued_patch
from atomesh.core.meshstatus import agent_ready, cost_today, rollup_status
from atomesh.core.runfactory import run_name
from atomesh.core.schedule import to_rfc3339


def new_execution_id(mesh: str, seed: str) -> str:
    """The id of the execution started by `seed` (a root run's name): the same seed, the same id."""
    return short_hash(f"{mesh}/{seed}", 10)


def mesh_run_name(mesh: str, execution: str, node: str) -> str:
    """The one name a node's run can have in an execution: the exactly-once key of its edges."""
    return run_name(f"{mesh}-{execution}-{node}")


def edge_id(edge: MeshEdge) -> str:
    return f"{edge.from_}->{edge.to}"


ADMISSION_PENDING = "waiting for the mesh to admit it"


def _node_run(mesh: Mesh, execution: str, node: str, **fields: Any) -> PlannedRun:
    """The run of `node` in `execution`: its one name, and the Agent the node runs."""
    agent = next(item.agent_ref.name for item in mesh.spec.agents if item.name == node)
    name = mesh_run_name(mesh.metadata.name, execution, node)
    return PlannedRun(name=name, mesh=mesh.metadata.name, node=node, agent=agent, execution=execution, **fields)


def start_execution(mesh: Mesh, node: str, seed: str, input_: Mapping[str, Any] | None = None) -> PlannedRun:
    """A root run that starts a new execution (for the operator or `atomesh dev --mesh`, not users).

    It is created queued, so the next plan admits it through the same gate as every other run;
    the same `seed` gives the same execution and name, so starting twice creates one run.
    """
    if node not in roots(mesh.spec):
        raise ValueError(f"node {node!r} is not a root of mesh {mesh.metadata.name!r}: roots are {roots(mesh.spec)}")
    return _node_run(
        mesh,
        new_execution_id(mesh.metadata.name, seed),
        node,
        input=dict(input_ or {}),
        queued=ADMISSION_PENDING,
        trigger_kind="manual",
        trigger_source=f"{mesh.metadata.name}/{node}",
    )


@dataclass(frozen=True)
class StoppedBranch:
    """A node that will not start in an execution, and why."""

    execution: str
    node: str
    reason: str


@dataclass(frozen=True)
class MeshPlan:
    """What to do now. Apply `create` (AlreadyExists is success), `adopt`, `release` (RELEASE_PATCH),
    `requeue` (`queued_patch`), then write `status`. The controller re-plans on a timer too, which is
    how runs held by the daily budget are released once the UTC day rolls over."""

    create: tuple[PlannedRun, ...] = ()
    adopt: tuple[Adoption, ...] = ()
    release: tuple[str, ...] = ()
    requeue: tuple[tuple[str, str], ...] = ()  # queued runs whose reason to wait changed: (run, why)
    stopped: tuple[StoppedBranch, ...] = ()
    problems: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    status: MeshStatus = field(default_factory=MeshStatus)


def _phase(run: AgentRun) -> str:
    return run.status.phase if run.status else "Pending"


def _created(run: AgentRun) -> tuple[str, str]:
    return (run.metadata.creation_timestamp or "", run.metadata.name)


def is_queued(run: AgentRun) -> bool:
    return bool(run.metadata.annotations.get(ANNOTATION_QUEUED))


def _merged(run: AgentRun) -> bool:
    review = run.status.review if run.status else None
    return _phase(run) == "Succeeded" and review is not None and review.state == "merged"


def _latest(runs: Sequence[AgentRun]) -> AgentRun:
    def key(run: AgentRun) -> tuple[int, str, str]:
        review = run.status.review if run.status else None
        return (review.revision if review else 0, *_created(run))

    return max(runs, key=key)


@dataclass(frozen=True)
class NodeOutcome:
    """A node's runs in one execution, summed up for its outgoing edges."""

    accepted: AgentRun | None  # a run whose pull request was merged
    completed: AgentRun | None  # the latest run, once every run of the node is terminal
    stopped: bool  # all runs terminal, none merged: `accepted` edges out of it never fire


def node_outcome(runs: Sequence[AgentRun]) -> NodeOutcome:
    merged = [run for run in runs if _merged(run)]
    done = bool(runs) and all(_phase(run) in TERMINAL_PHASES for run in runs)
    return NodeOutcome(
        accepted=_latest(merged) if merged else None,
        completed=_latest(runs) if done else None,
        stopped=done and not merged,
    )


@dataclass
class _Gate:
    """FIFO admission of runs that would start: closed by suspend or budget, else counted slots."""

    closed: str | None
    slots: int | None

    def admit(self) -> str | None:
        """None when one more run may start now, else why it waits."""
        if self.closed:
            return self.closed
        if self.slots is None:
            return None
        if self.slots <= 0:
            return "waiting for a free slot: maxActiveRuns reached"
        self.slots -= 1
        return None


def _adopt_node(mesh: Mesh, run: AgentRun, root_nodes: list[str]) -> tuple[str | None, str | None]:
    """The root node a user-created run belongs to, or why none fits."""
    agent_of = {node.name: node.agent_ref.name for node in mesh.spec.agents}
    wanted = run.metadata.labels.get(LABEL_MESH_NODE)
    agent = run.spec.agent_ref.name
    if wanted:
        if wanted not in root_nodes:
            return None, f"run {run.metadata.name}: node {wanted!r} is not a root of the mesh (roots: {root_nodes})"
        if agent_of[wanted] != agent:
            return None, f"run {run.metadata.name}: node {wanted!r} runs Agent {agent_of[wanted]!r}, not {agent!r}"
        return wanted, None
    matching = [name for name in root_nodes if agent_of[name] == agent]
    if len(matching) != 1:
        hint = "no root node runs it" if not matching else f"root nodes {matching} run it"
        return None, f"run {run.metadata.name}: Agent {agent!r}: {hint}; label the run {LABEL_MESH_NODE}=<node>"
    return matching[0], None


def _fire(
    mesh: Mesh, node: str, edges: list[MeshEdge], outcomes: Mapping[str, NodeOutcome], execution: str
) -> PlannedRun | StoppedBranch | None:
    """The run `node` gets in this execution, a stopped branch, or None while an upstream is unfinished."""
    chosen: dict[str, AgentRun] = {}
    for edge in edges:
        outcome = outcomes.get(edge.from_, NodeOutcome(None, None, False))
        run = outcome.accepted if edge.when == "accepted" else outcome.completed
        if run is None and edge.when == "accepted" and outcome.stopped:
            phase = _phase(outcome.completed) if outcome.completed else "?"
            reason = f"upstream {edge.from_} ended {phase} without a merge; edge {edge_id(edge)} needs accepted"
            return StoppedBranch(execution, node, reason)
        if run is None:
            return None
        chosen[edge.from_] = run
    context = {name: upstream_fields(run, name) for name, run in chosen.items()}
    values: dict[str, Any] = {}
    errors: list[str] = []
    for edge in edges:
        mapped, problems = map_input(edge.input, context[edge.from_], context)
        errors += [f"edge {edge_id(edge)}: {problem}" for problem in problems]
        for key in sorted(set(mapped) & set(values)):
            errors.append(f"edge {edge_id(edge)}: input {key!r} is also mapped by another edge into {node}")
        values.update(mapped)
    return _node_run(
        mesh,
        execution,
        node,
        input=values,
        edges=tuple(edge_id(edge) for edge in edges),
        upstream_runs=tuple(sorted(run.metadata.name for run in chosen.values())),
        error="; ".join(errors) or None,
    )


def plan_mesh(mesh: Mesh, agents: Mapping[str, Agent], runs: Sequence[AgentRun], now: datetime) -> MeshPlan:
    """Plan one reconcile of `mesh`. `runs` are the AgentRuns labelled with the mesh (others are ignored)."""
    name = mesh.metadata.name
    mine = sorted((run for run in runs if run.metadata.labels.get(LABEL_MESH) == name), key=_created)
    problems = graph_problems(mesh.spec, agents)
    now_text = to_rfc3339(now)
    if problems:
        desired = [
            condition(c.STALLED, c.TRUE, c.INVALID_GRAPH, problems[0], mesh.metadata.generation),
            condition(c.READY, c.FALSE, c.INVALID_GRAPH, "; ".join(problems), mesh.metadata.generation),
        ]
        status = rollup_status(mesh, agents, mine, now, desired, now_text)
        return MeshPlan(problems=tuple(problems), conditions=tuple(desired), status=status)

    spend = cost_today(mine, now)
    limits = mesh.spec.limits
    over_budget = limits.max_cost_usd_per_day is not None and spend >= limits.max_cost_usd_per_day
    closed = None
    if mesh.spec.suspend:
        closed = "mesh is suspended"
    elif over_budget:
        closed = f"daily budget spent (${spend:.2f} of ${limits.max_cost_usd_per_day:.2f}); waiting for 00:00 UTC"
    active = [run for run in mine if _phase(run) in ACTIVE_PHASES and not is_queued(run) and _adopted(run)]
    slots = None if limits.max_active_runs is None else limits.max_active_runs - len(active)
    gate = _Gate(closed, slots)

    # 1. Runs already queued go first, oldest first; those still waiting say why, as of now.
    released: list[str] = []
    requeue: list[tuple[str, str]] = []
    for run in mine:
        if not (is_queued(run) and _phase(run) in ACTIVE_PHASES and _adopted(run)):
            continue
        why = gate.admit()
        if why is None:
            released.append(run.metadata.name)
        elif why != run.metadata.annotations.get(ANNOTATION_QUEUED):
            requeue.append((run.metadata.name, why))
    release = tuple(released)
    # 2. Root runs users created for the mesh join an execution of their own.
    root_nodes = roots(mesh.spec)
    adopt: list[Adoption] = []
    adoption_problems: list[str] = []
    for run in mine:
        if _adopted(run) or _phase(run) in TERMINAL_PHASES:
            continue
        node, problem = _adopt_node(mesh, run, root_nodes)
        if node is None:
            adoption_problems.append(problem or "")
            continue
        adopt.append(Adoption(run.metadata.name, node, new_execution_id(name, run.metadata.name), gate.admit()))
    # 3. Edges whose upstream runs are done create the next runs.
    create, stopped = _plan_edges(mesh, mine, adopt, gate)

    desired = _conditions(mesh, agents, spend, over_budget)
    status = rollup_status(mesh, agents, mine, now, desired, now_text, create=create, adopt=adopt, release=release)
    return MeshPlan(
        create=tuple(create),
        adopt=tuple(adopt),
        release=release,
        requeue=tuple(requeue),
        stopped=tuple(stopped),
        problems=tuple(adoption_problems),
        conditions=tuple(desired),
        status=status,
    )


def _adopted(run: AgentRun) -> bool:
    return bool(run.metadata.labels.get(LABEL_MESH_EXECUTION))


def _plan_edges(
    mesh: Mesh, runs: Sequence[AgentRun], adopt: Sequence[Adoption], gate: _Gate
) -> tuple[list[PlannedRun], list[StoppedBranch]]:
    by_execution: dict[str, dict[str, list[AgentRun]]] = {}
    for run in runs:
        execution = run.metadata.labels.get(LABEL_MESH_EXECUTION)
        node = run.metadata.labels.get(LABEL_MESH_NODE)
        if execution and node:
            by_execution.setdefault(execution, {}).setdefault(node, []).append(run)
    for adoption in adopt:
        by_execution.setdefault(adoption.execution, {}).setdefault(adoption.node, [])
    into = upstreams(mesh.spec)
    order = topological_order(mesh.spec)
    existing = {run.metadata.name for run in runs}
    first_seen = {
        execution: min((_created(run) for node_runs in nodes.values() for run in node_runs), default=("", ""))
        for execution, nodes in by_execution.items()
    }
    create: list[PlannedRun] = []
    stopped: list[StoppedBranch] = []
    for execution in sorted(by_execution, key=lambda item: (first_seen[item], item)):
        nodes = by_execution[execution]
        outcomes = {node: node_outcome(node_runs) for node, node_runs in nodes.items()}
        for node in order:
            edges = into[node]
            if not edges or nodes.get(node):
                continue
            result = _fire(mesh, node, edges, outcomes, execution)
            if isinstance(result, StoppedBranch):
                stopped.append(result)
            elif result is not None and result.name not in existing:
                # A run that will fail on its input takes no slot; the others queue behind the gate.
                queued = gate.admit() if result.error is None else gate.closed
                create.append(replace(result, queued=queued))
    return create, stopped


def _conditions(mesh: Mesh, agents: Mapping[str, Agent], spend: float, over_budget: bool) -> list[Condition]:
    generation = mesh.metadata.generation
    not_ready = [node.name for node in mesh.spec.agents if not agent_ready(agents.get(node.agent_ref.name))]
    total = len(mesh.spec.agents)
    if not_ready:
        ready = condition(
            c.READY,
            c.FALSE,
            c.AGENTS_NOT_READY,
            f"{total - len(not_ready)}/{total} agents ready; waiting for: {', '.join(not_ready)}",
            generation,
        )
    else:
        ready = condition(c.READY, c.TRUE, c.RECONCILED, f"{total}/{total} agents ready", generation)
    desired = [ready]
    budget = mesh.spec.limits.max_cost_usd_per_day
    if budget is not None:
        message = f"${spend:.2f} of ${budget:.2f} spent today (UTC)"
        if over_budget:
            desired.append(condition(c.BUDGET_EXCEEDED, c.TRUE, c.BUDGET_EXCEEDED_REASON, message, generation))
        else:
            desired.append(condition(c.BUDGET_EXCEEDED, c.FALSE, c.WITHIN_BUDGET, message, generation))
    if mesh.spec.suspend:
        desired.append(condition(c.SUSPENDED, c.TRUE, c.SUSPEND_REASON, "new runs are held", generation))
    else:
        desired.append(condition(c.SUSPENDED, c.FALSE, c.NOT_SUSPENDED, "", generation))
    return desired


__all__ = [
    "RELEASE_PATCH",
    "Adoption",
    "MeshPlan",
    "NodeOutcome",
    "PlannedRun",
    "StoppedBranch",
    "edge_id",
    "mesh_run_name",
    "new_execution_id",
    "node_outcome",
    "plan_mesh",
    "queued_patch",
    "start_execution",
]
