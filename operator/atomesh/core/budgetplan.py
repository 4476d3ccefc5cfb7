"""Which budgets cover a run, and a Budget's reconcile plan (its status from the runs of its window).

Pure. Invariants:

- A run of Agent `a` (labels L) is covered by `a`'s `spec.budget`, by its Mesh's `spec.budget` when
  it runs in a mesh (label `atomesh.io/mesh`), and by every Budget of the namespace whose selector
  matches L (no selector: every Agent). A Budget counts the runs of every Agent it covers, so it caps
  them together.
- A Budget's status is recomputed whole from the runs each time (nothing accumulates in it), so a
  restart or a replayed reconcile writes the same status; Events are emitted only when a condition
  turns True, so a plan applied twice posts each once.
- The plan always asks to be looked at again (`Waiting`): at the earliest window end, and at least
  every `REFRESH_SECONDS` so finished runs' spend shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.budget import ArtifactCost, Budget, BudgetStatus, WindowSpend
from atomesh.api.common import Condition, dump
from atomesh.api.mesh import Mesh
from atomesh.core.budget import BudgetScope, RunSpend, artifact_cost, describe, reached, window_bounds
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.plan import Event, Plan
from atomesh.core.requeue import Stalled, Waiting
from atomesh.core.schedule import parse_rfc3339, to_rfc3339
from atomesh.core.validation import check_timezone, format_path

REFRESH_SECONDS = 60.0  # a Budget's spend is recounted at least this often

AgentLabels = Mapping[str, Mapping[str, str]]  # Agent name -> its labels


def covered_agents(budget: Budget, agents: AgentLabels) -> list[str]:
    selector = budget.spec.selector
    return sorted(name for name, labels in agents.items() if selector is None or selector.matches(dict(labels)))


def budget_scope(budget: Budget, agents: AgentLabels) -> BudgetScope:
    """Without a selector a Budget counts every run of the namespace, of Agents deleted since included."""
    owner = f"Budget/{budget.metadata.name}"
    if budget.spec.selector is None:
        return BudgetScope(owner, budget.spec, lambda run: True)
    covered = frozenset(covered_agents(budget, agents))
    return BudgetScope(owner, budget.spec, lambda run: run.agent in covered)


def scopes_for_run(
    agent: Agent, mesh: Mesh | None, budgets: Sequence[Budget], agents: AgentLabels
) -> list[BudgetScope]:
    """Every budget that covers a new run of `agent` (in `mesh`, if it runs in one)."""
    name = agent.metadata.name
    scopes: list[BudgetScope] = []
    if agent.spec.budget is not None:
        scopes.append(BudgetScope(f"Agent/{name}", agent.spec.budget, lambda run: run.agent == name))
    if mesh is not None and mesh.spec.budget is not None:
        mesh_name = mesh.metadata.name
        scopes.append(BudgetScope(f"Mesh/{mesh_name}", mesh.spec.budget, lambda run: run.mesh == mesh_name))
    labels = {**agents, name: agent.metadata.labels}
    for budget in budgets:
        selector = budget.spec.selector
        if budget_problems(budget):
            continue  # reported on the Budget (Stalled, InvalidSpec); Agents and Meshes check theirs before runs
        if selector is None or selector.matches(agent.metadata.labels):
            scopes.append(budget_scope(budget, labels))
    return scopes


def _conditions(owner: str, warn_at: int, spends: list[WindowSpend], generation: int | None) -> list[Condition]:
    exceeded = [spend for spend in spends if reached(spend)]
    warned = [spend for spend in spends if spend.percent >= warn_at and not reached(spend)]
    summary = "; ".join(describe(owner, spend) for spend in spends) or "no limits declared"
    ready = condition(c.READY, c.TRUE, c.BUDGET_ACCOUNTED, summary, generation)
    if exceeded:
        message = "; ".join(describe(owner, spend) for spend in exceeded) + "; new runs wait for the window"
        over = condition(c.BUDGET_EXCEEDED, c.TRUE, c.BUDGET_EXCEEDED_REASON, message, generation)
    else:
        over = condition(c.BUDGET_EXCEEDED, c.FALSE, c.WITHIN_BUDGET, summary, generation)
    if warned or exceeded:
        message = "; ".join(describe(owner, spend) for spend in warned or exceeded) + f" (warnAt {warn_at}%)"
        warning = condition(c.BUDGET_WARNING, c.TRUE, c.BUDGET_WARNING_REASON, message, generation)
    else:
        warning = condition(c.BUDGET_WARNING, c.FALSE, c.WITHIN_BUDGET, summary, generation)
    return [ready, warning, over]


def _turned_true(old: Sequence[Condition], new: Sequence[Condition]) -> tuple[Event, ...]:
    events = []
    for type_ in (c.BUDGET_WARNING, c.BUDGET_EXCEEDED):
        before, after = find(old, type_), find(new, type_)
        if after is not None and after.status == c.TRUE and (before is None or before.status != c.TRUE):
            events.append(Event("Warning", after.reason, after.message))
    return tuple(events)


def budget_problems(budget: Budget) -> str:
    """What the schema cannot check of a Budget's spec ("" when nothing)."""
    errors = check_timezone(budget.spec.timezone, ("spec", "timezone"))
    return "; ".join(f"{format_path(error.loc)}: {error.message}" for error in errors)


def invalid_budget_plan(old: BudgetStatus, message: str, generation: int | None, now: str) -> Plan:
    """Ready=False and Stalled=True with reason InvalidSpec; nothing happens until the spec changes."""
    wanted = [
        condition(c.READY, c.FALSE, c.INVALID_SPEC, message, generation),
        condition(c.STALLED, c.TRUE, c.INVALID_SPEC, message, generation),
    ]
    conditions = merge_conditions(old.conditions, wanted, now)
    status = old.model_copy(update={"conditions": conditions, "observed_generation": generation})
    return Plan(status=dump(status), requeue=Stalled(message))


def plan_budget(
    budget: Budget, agents: AgentLabels, runs: Sequence[RunSpend], now: datetime, generation: int | None
) -> Plan:
    """The Budget's status (spend per window, conditions), its Events, and when to recount."""
    old = budget.status or BudgetStatus()
    problems = budget_problems(budget)
    if problems:
        return invalid_budget_plan(old, problems, generation, to_rfc3339(now))
    scope = budget_scope(budget, agents)
    spends = scope.spends(runs, now)
    stamp = to_rfc3339(now)
    conditions = merge_conditions(
        old.conditions, _conditions(scope.owner, budget.spec.warn_at_percent, spends, generation), stamp
    )
    by_window = {spend.window: spend.cost_usd for spend in spends}
    new = BudgetStatus(
        observed_generation=generation,
        conditions=conditions,
        windows=spends,
        cost_today_usd=by_window.get("day", 0.0),
        cost_this_month_usd=by_window.get("month", 0.0),
        agents=covered_agents(budget, agents),
        artifact_costs=artifact_costs(
            [run for run in runs if scope.counts(run)], *window_bounds("month", now, budget.spec.timezone), "agent"
        ),
    )
    ends = [end for end in (parse_rfc3339(spend.end) for spend in spends) if end is not None]
    after = min([REFRESH_SECONDS, *((end - now).total_seconds() + 1 for end in ends)])
    waiting = Waiting(f"recount of Budget {budget.metadata.name}", max(1.0, after))
    return Plan(status=dump(new), events=_turned_true(old.conditions, conditions), requeue=waiting)


def artifact_costs(runs: Sequence[RunSpend], start: datetime, end: datetime, key: str) -> list[ArtifactCost]:
    """Per agent (key "agent") or mesh (key "mesh"): spend, merged pull requests and cost per accepted
    artifact of the runs that started in [start, end); groups without a run in the window are left out."""
    groups: dict[str, list[RunSpend]] = {}
    for run in runs:
        group = run.agent if key == "agent" else run.mesh
        if group:
            groups.setdefault(group, []).append(run)
    costs = []
    for group, members in sorted(groups.items()):
        cost = artifact_cost(members, start, end)
        if cost.cost_usd or cost.merged:
            costs.append(
                ArtifactCost(
                    agent=group, cost_usd=cost.cost_usd, merged=cost.merged, cost_per_accepted_usd=cost.per_accepted_usd
                )
            )
    return costs
