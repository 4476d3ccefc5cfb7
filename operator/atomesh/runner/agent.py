"""Step 2, agent: run the harness on the task under the run's limits, then the review checks.

In a runner pod this step holds no credential at all: it talks to the model through the pod's model
proxy with a per-run token, and the real key stays in the proxy's container. (Run outside a pod, it
may be given a base URL and key directly.) Usage is written even when the harness fails, so the spend
of a failed run is known.
"""

from __future__ import annotations

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
from atomesh.harness.protocol import HarnessUsage, limit_exceeded
from atomesh.runner.checks import run_checks
from atomesh.runner.context import SOURCE_DIR, StepContext
from atomesh.runner.contexts import load_contexts
from atomesh.runner.failure import HARNESS_REASONS, StepFailure
from atomesh.runner.memory import check_compaction, compaction_work, is_compaction_run, is_memory_run, propose_lesson
from atomesh.runner.modelproxy import wait_for_proxy
from atomesh.runner.session import current_session, previous_session, record_resumed, seal_session
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
    compacting = is_compaction_run(ctx.run)
    task = replace(
        compaction_work(ctx) if compacting else compose_task(ctx.run, load_instructions(ctx)),
        context=context,
        context_dirs=folders,
        resume_from=resume if resume.is_file() else None,
        session_out=current_session(ctx),
    )
    harness = harness or build_harness(spec.harness.kind, model_access(ctx))
    max_cost_usd, max_tokens = spec.run_limits()
    limits = HarnessLimits(
        max_turns=spec.harness.max_turns, timeout_seconds=timeout, max_cost_usd=max_cost_usd, max_tokens=max_tokens
    )
    env = child_env(ctx.environ)
    ctx.log(
        f"running {spec.harness.kind} with {spec.harness.model} (maxTurns {limits.max_turns}, timeout {timeout:g}s)"
    )
    result = harness.run(task, ctx.workspace, limits, env)
    seal_session(ctx)
    record_resumed(ctx, result.resumed)
    cost = result.usage.cost_usd
    declared = spec.harness.price
    if declared is not None:
        # The Agent's declared price wins: Claude Code and OpenCode count an unknown model as $0.
        cost = declared.cost(result.usage.input_tokens, result.usage.output_tokens)
    usage = Usage(
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cost_usd=round(cost, 6),
        turns=result.usage.turns,
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
    over = limit_exceeded(replace(result.usage, cost_usd=cost), limits) if declared is not None else None
    if over is not None:  # at the declared price, the run went past a limit the harness could not see
        raise StepFailure(HARNESS_REASONS[over[0]], over[1])
    if compacting:
        check_compaction(ctx)
    checks = run_checks(spec.review.checks, ctx.workspace, env, deadline, ctx.scrub)
    write_checks(ctx.state_dir, checks)
    for check in checks:
        ctx.log(f"check {check.name}: {'passed' if check.passed else f'failed (exit {check.exit_code})'}")
    refuse_credentials(ctx)
    return result


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
