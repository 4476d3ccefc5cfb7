"""A Paused run's reconcile plan (`plan_paused`): stay Paused, or resume in a new runner pod.

Pure: the controller reads the run, its Agent as it is now, (for a revision) the run it revises and
whether a budget window that covers the run is spent, and applies the `core.plan.Plan`. Invariants:

- A Paused run resumes when the per-run limit it stopped at has room again — the Agent's current
  `limits.maxCostUSD`/`maxTokens` and `budget.perRun` (the lower holds) are above the run's spend — or
  when its `atomesh.io/resume` annotation carries a value not handled yet (`status.lastHandledResume`);
  a run resumed by the annotation without room pauses again before any model request, spending nothing.
  A run paused at a budget window's limit (its per-run limits have room) resumes when the window opens
  or its limit is raised.
- A spent window of a budget that covers the run (`budget`) keeps it Paused until the window opens; what
  the windows have left (`window_room`) is the new attempt's allowance on top of the run's spend.
- A resume is a new runner pod `<run>-runner-<attempt>` (`core.pod`, deterministic, so a plan applied
  twice creates it once); its run file carries the attempt and the spend so far, which the model proxy
  counts against the run's limits, so the run's total overshoots a limit by at most one model answer.
  The snapshot keeps its revision; only `limits` and `budget` are taken from the Agent as it is now.
- The earlier pod stays (owned by the run) for its logs; cancel ends a Paused run like any other.
"""

from __future__ import annotations

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun, AgentRunStatus, Usage
from atomesh.api.budget import WindowRoom
from atomesh.core.budget import BudgetBlock
from atomesh.core.config import OperatorConfig
from atomesh.core.plan import Create, Event, Plan
from atomesh.core.pod import AttemptContext, RevisionContext, build_runner_objects
from atomesh.core.requeue import Waiting
from atomesh.core.runphase import with_conditions
from atomesh.core.runstart import run_status_plan
from atomesh.core.schedule import parse_rfc3339


def limit_room(agent: Agent | None, usage: Usage | None) -> str:
    """Why the Agent's current per-run limits let the run go on ("" when one of them is still spent)."""
    if agent is None:
        return ""
    max_cost_usd, max_tokens = agent.spec.run_limits()
    cost = usage.cost_usd if usage else 0.0
    tokens = (usage.input_tokens + usage.output_tokens) if usage else 0
    if max_cost_usd is not None and cost >= max_cost_usd:
        return ""
    if max_tokens is not None and tokens >= max_tokens:
        return ""
    parts = [f"${cost:.4f} of ${max_cost_usd:g}" if max_cost_usd is not None else ""]
    parts.append(f"{tokens} of {max_tokens} tokens" if max_tokens is not None else "")
    spent = ", ".join(part for part in parts if part)
    return f"its per-run limit has room ({spent} spent)" if spent else "it has no per-run limit"


def resume_request(run: AgentRun, status: AgentRunStatus) -> str:
    """The `atomesh.io/resume` value not handled yet, or ""."""
    value = run.metadata.annotations.get(k.ANNOTATION_RESUME, "")
    return value if value and value != status.last_handled_resume else ""


def resume_cause(run: AgentRun, status: AgentRunStatus, agent: Agent | None) -> str:
    """What resumes the Paused run now (the annotation, or the raised limit), or "" when nothing does."""
    requested = resume_request(run, status)
    return f"{k.ANNOTATION_RESUME}={requested}" if requested else limit_room(agent, status.usage)


def plan_paused(
    run: AgentRun,
    old: AgentRunStatus,
    *,
    agent: Agent | None,
    revision: RevisionContext | None,
    config: OperatorConfig,
    now: str,
    generation: int | None,
    budget: BudgetBlock | None = None,
    window_room: WindowRoom | None = None,
) -> Plan:
    """Cancelled, still Paused (nothing to write), or resumed: the next attempt's runner pod."""
    if run.spec.cancel:
        update = {"phase": "Cancelled", "reason": c.CANCELLED, "message": "cancelled while paused"}
        cancelled = old.model_copy(update={**update, "completion_time": now})
        return run_status_plan(old, with_conditions(cancelled, generation, now))
    requested = resume_request(run, old)
    why = resume_cause(run, old, agent)
    if not why or old.agent is None:
        return Plan()
    if budget is not None:
        message = f"{old.message or 'paused'}; resuming waits for a budget window: {budget.message}"
        waiting = old.model_copy(update={"message": message})
        clock = parse_rfc3339(now) or budget.opens_at
        return run_status_plan(
            old, with_conditions(waiting, generation, now), requeue=Waiting(message, budget.delay(clock))
        )
    snapshot = old.agent
    if agent is not None:
        spec = snapshot.spec.model_copy(update={"limits": agent.spec.limits, "budget": agent.spec.budget})
        snapshot = snapshot.model_copy(update={"spec": spec})
    attempt = (old.attempt or 1) + 1
    context = AttemptContext(attempt, old.usage, window_room)
    objects = build_runner_objects(run, snapshot, config, revision, context)
    pod = objects[-1]
    name = pod["metadata"]["name"]
    resumed = old.model_copy(
        update={
            "phase": "Pending",
            "reason": c.POD_CREATED,
            "message": f"runner pod {name} is starting",  # as `runphase.plan_from_pod` says it: no second write
            "agent": snapshot,
            "pod_name": name,
            "attempt": attempt,
            "last_handled_resume": requested or old.last_handled_resume,
        }
    )
    event = Event("Normal", c.RESUMED, f"attempt {attempt} in runner pod {name}: {why}")
    actions = tuple(Create(obj, owned=True, on_created=(event,) if obj is pod else ()) for obj in objects)
    return run_status_plan(old, with_conditions(resumed, generation, now), actions)
