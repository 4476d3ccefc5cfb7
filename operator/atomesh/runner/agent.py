"""Step 2, agent: run the harness on the task under the run's limits, then the review checks.

In a runner pod this step holds no credential at all: it talks to the model through the pod's model
proxy with a per-run token, and the real key stays in the proxy's container. (Run outside a pod, it
may be given a base URL and key directly.) Usage is written even when the harness fails, so the spend
of a failed run is known. A run that reaches a hard limit pauses instead of failing (`runner.pause`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import git

from atomesh.api import conditions as c
from atomesh.api.agentrun import Usage
from atomesh.api.common import parse_duration
from atomesh.forge import git as gitops
from atomesh.harness import Harness, HarnessLimits, HarnessResult, ModelAccess, build_harness
from atomesh.harness.environment import CREDENTIAL_VARIABLES
from atomesh.harness.protocol import FailureReason, HarnessUsage, limit_exceeded
from atomesh.runner.checks import run_checks
from atomesh.runner.context import SOURCE_DIR, StepContext
from atomesh.runner.contexts import load_contexts
from atomesh.runner.failure import HARNESS_REASONS, StepFailure
from atomesh.runner.memory import is_memory_run, propose_lesson
from atomesh.runner.modelproxy import wait_for_proxy
from atomesh.runner.pause import Pause, proxy_pause, remaining_limits, spent_already, with_spent, write_pause
from atomesh.runner.session import current_session, previous_session, seal_session
from atomesh.runner.state import write_checks, write_summary, write_usage
from atomesh.runner.task import compose_task

AGENT_FILE = "AGENT.md"
SCAN_LIMIT = 20_000_000  # bytes; larger files are data, not where a key ends up by accident


def load_instructions(ctx: StepContext) -> str:
    spec = ctx.run.spec
    if spec.instructions is not None:
        return spec.instructions
    assert spec.source is not None
    path = ctx.state_dir / SOURCE_DIR / spec.source.path / AGENT_FILE
    if not path.is_file():
        raise StepFailure(
            c.SOURCE_NOT_FOUND,
            f"{Path(spec.source.path) / AGENT_FILE} is missing in {spec.source.repo} at "
            f"{ctx.run.agent_commit or spec.source.ref}; fix spec.source.path or add the file",
        )
    return path.read_text(encoding="utf-8")


def child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The harness's and checks' environment: the pod's, without any credential."""
    return {key: value for key, value in environ.items() if key not in CREDENTIAL_VARIABLES}


def model_access(ctx: StepContext) -> ModelAccess:
    harness = ctx.run.spec.harness
    base_url: str | None
    api_key: str | None
    if ctx.model_proxy_dir is not None:
        proxy = wait_for_proxy(ctx.model_proxy_dir)
        base_url, api_key = proxy.url, proxy.token
    else:
        base_url, api_key = harness.base_url or ctx.model_base_url, ctx.model_api_key
    return ModelAccess(
        model=harness.model,
        base_url=base_url,
        api_key=api_key,
        allowed_tools=tuple(harness.allowed_tools),
        price=harness.price,
    )


def run_agent(ctx: StepContext, harness: Harness | None = None) -> HarnessResult:
    spec = ctx.run.spec
    if is_memory_run(ctx.run):
        propose_lesson(ctx)
        return HarnessResult(usage=HarnessUsage(), exit_code=0)
    timeout = float(parse_duration(spec.limits.timeout))
    deadline = time.monotonic() + timeout
    context, folders = load_contexts(ctx)
    resume = previous_session(ctx)
    task = replace(
        compose_task(ctx.run, load_instructions(ctx)),
        context=context,
        context_dirs=folders,
        resume_from=resume if resume.is_file() else None,
        session_out=current_session(ctx),
    )
    hard = ctx.run.hard_limits()  # per run, or what the budget windows left when the attempt started
    run_limits = HarnessLimits(
        max_turns=spec.harness.max_turns,
        timeout_seconds=timeout,
        max_cost_usd=hard.max_cost_usd,
        max_tokens=hard.max_tokens,
    )
    # A resumed run's earlier attempts count against its limits: this attempt gets what is left.
    limits = remaining_limits(run_limits, ctx.run.spent)
    spent = spent_already(limits)
    if spent is not None:  # resumed without room: pause again before any model request, keeping the session
        if resume.is_file():
            shutil.copyfile(resume, current_session(ctx))
        pause_now(ctx, spent, HarnessResult(usage=HarnessUsage(), exit_code=None))
        return HarnessResult(usage=HarnessUsage(), exit_code=None)
    harness = harness or build_harness(spec.harness.kind, model_access(ctx))
    env = child_env(ctx.environ)
    ctx.log(
        f"running {spec.harness.kind} with {spec.harness.model} (maxTurns {limits.max_turns}, timeout {timeout:g}s)"
    )
    # Behind the model proxy, the proxy holds the cost and token limits: it refuses the request after the
    # answer that reached one, so the harness ends at that turn boundary with the turn's tools run.
    # Harnesses' own checks stop a turn midway (Claude Code's --max-budget-usd drops the turn's tool calls).
    metered = ctx.model_proxy_dir is not None
    harness_limits = replace(limits, max_cost_usd=None, max_tokens=None) if metered else limits
    result = harness.run(task, ctx.workspace, harness_limits, env)
    seal_session(ctx)
    cost = result.usage.cost_usd
    declared = spec.harness.price
    if declared is not None:
        # The Agent's declared price wins: Claude Code and OpenCode count an unknown model as $0.
        cost = declared.cost(result.usage.input_tokens, result.usage.output_tokens)
    over = limit_exceeded(replace(result.usage, cost_usd=cost), limits) if declared and not metered else None
    pause = pause_of(ctx, result, over)
    if pause is not None:
        pause_now(ctx, pause, replace(result, usage=replace(result.usage, cost_usd=cost)))
        return result
    total = with_spent(replace(result.usage, cost_usd=cost), ctx.run.spent)
    usage = Usage(
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        cost_usd=round(total.cost_usd, 6),
        turns=total.turns,
    )
    write_usage(ctx.state_dir, usage)
    write_summary(ctx.state_dir, ctx.scrub(result.final_text))
    for note in result.notes:
        ctx.log(note)
    ctx.log(
        f"harness used {usage.turns} turns, {usage.input_tokens}+{usage.output_tokens} tokens, ${usage.cost_usd:.4f}"
    )
    if not result.ok:
        reason = HARNESS_REASONS.get(result.reason or "", c.HARNESS_CRASHED)
        raise StepFailure(reason, ctx.scrub(result.message))
    checks = run_checks(spec.review.checks, ctx.workspace, env, deadline, ctx.scrub)
    write_checks(ctx.state_dir, checks)
    for check in checks:
        ctx.log(f"check {check.name}: {'passed' if check.passed else f'failed (exit {check.exit_code})'}")
    refuse_credentials(ctx)
    return result


def pause_of(ctx: StepContext, result: HarnessResult, over: tuple[FailureReason, str] | None) -> Pause | None:
    """Whether the run stopped at a hard limit: the model proxy refused a request at it (whatever the harness
    made of that refusal), the harness stopped at it, or at the declared price it went past one."""
    announced = proxy_pause(ctx.model_proxy_dir)
    if announced is not None:
        return announced
    stopped = result.reason if result.reason in ("BudgetExceeded", "TokensExceeded") else None
    if stopped is not None:
        return Pause(HARNESS_REASONS[stopped], ctx.scrub(result.message))
    if result.ok and over is not None:  # at the declared price, the run went past a limit the harness could not see
        return Pause(HARNESS_REASONS[over[0]], over[1])
    return None


def pause_now(ctx: StepContext, pause: Pause, result: HarnessResult) -> None:
    """End the step with what the agent has: usage over all attempts, its summary, and `paused.json` for
    publish, which keeps the session and the work and publishes nothing. Runs no checks."""
    total = with_spent(result.usage, ctx.run.spent)
    usage = Usage(
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        cost_usd=round(total.cost_usd, 6),
        turns=total.turns,
    )
    write_usage(ctx.state_dir, usage)
    write_summary(ctx.state_dir, ctx.scrub(result.final_text))
    refuse_credentials(ctx)  # the work is kept with the session: never with a credential in it
    write_pause(ctx.state_dir, pause)
    ctx.log(
        f"paused ({pause.reason}): {pause.message}; {usage.turns} turns, "
        f"{usage.input_tokens}+{usage.output_tokens} tokens, ${usage.cost_usd:.4f} so far"
    )


def refuse_credentials(ctx: StepContext) -> None:
    """Fail when a changed file holds the model key: publish, which never sees that key, would publish it.

    A CLI harness's own shell inherits the key it needs for the model, so an agent can read it;
    this is the last point where the key is known and the artifact can still be stopped.
    """
    scrub = ctx.scrub
    with git.Repo(ctx.workspace) as repo:
        paths = gitops.changed_paths(repo)
    leaked = []
    for path in paths:
        target = ctx.workspace / path
        if not target.is_file() or target.stat().st_size > SCAN_LIMIT:
            continue
        if scrub.found_in(target.read_bytes().decode("utf-8", errors="ignore")):
            leaked.append(path)
    if leaked:
        raise StepFailure(
            c.CREDENTIAL_IN_ARTIFACT,
            f"the agent wrote a credential into {', '.join(sorted(leaked))}; the change will not be published",
        )
