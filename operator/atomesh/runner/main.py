"""The runner steps' entry: read the pod's contract, run one step, report the outcome.

Exit 0 on success. On failure: exit 1, `<Reason>: <message>` on stderr and in the termination
message (the operator shows it in the run's status). Publish writes its PublishSummary JSON as
the termination message. Credentials are masked in everything written.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import Usage
from atomesh.api.runfile import with_usage
from atomesh.forge.protocol import Forge
from atomesh.runner.context import StepContext, context_from_env
from atomesh.runner.failure import StepFailure
from atomesh.runner.scrub import Scrubber
from atomesh.runner.state import read_usage
from atomesh.runner.summary import fit_summary, fit_text

ForgeFactory = Callable[[StepContext], Forge]


def github_forge(ctx: StepContext) -> Forge:
    from atomesh.forge.github import GitHubForge

    if not ctx.forge_api_url:
        raise StepFailure(c.STEP_FAILED, f"{k.ENV_FORGE_API_URL} is not set; publish needs the forge API")
    return GitHubForge(ctx.forge_api_url, ctx.forge_token)


def _write(path: Path | None, text: str) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _step(step: str, ctx: StepContext, forge_factory: ForgeFactory) -> None:
    if step == k.RUNNER_CONTAINER_CHECKOUT:
        from atomesh.runner.checkout import run_checkout

        run_checkout(ctx)
    elif step == k.RUNNER_CONTAINER_AGENT:
        from atomesh.runner.agent import run_agent

        run_agent(ctx)
    elif step == k.RUNNER_CONTAINER_BUILD:
        from atomesh.runner.site_build import run_build

        run_build(ctx)
    elif step == k.RUNNER_CONTAINER_PUBLISH:
        from atomesh.runner.publish import run_publish

        summary = run_publish(ctx, forge_factory(ctx))
        _write(ctx.termination_path, ctx.scrub(fit_summary(summary)))
        ctx.log(summary.message)
    else:
        raise StepFailure(c.STEP_FAILED, f"unknown step {step!r}: use one of {', '.join(k.RUNNER_STEPS)}")


def run_step(step: str, environ: Mapping[str, str], forge_factory: ForgeFactory = github_forge) -> int:
    scrub = Scrubber([environ.get(k.ENV_FORGE_TOKEN), environ.get(k.ENV_MODEL_API_KEY)])
    termination = environ.get(k.ENV_TERMINATION_MESSAGE_PATH)
    termination_path = Path(termination) if termination else None
    ctx: StepContext | None = None
    try:
        ctx = context_from_env(environ)
        _step(step, ctx, forge_factory)
    except StepFailure as failure:
        text = scrub(f"{failure.reason}: {failure.message}")
    except Exception as error:  # an unexpected error still ends with a reason, never a raw trace with secrets
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        text = scrub(f"{c.STEP_FAILED}: {step} failed unexpectedly: {detail}")
    else:
        return 0
    print(f"atomesh runner {step}: {text}", flush=True, file=sys.stderr)
    # What the harness spent before the step failed still counts in the run's budgets.
    usage = _usage_of(ctx) if step == k.RUNNER_CONTAINER_AGENT else None
    _write(termination_path, with_usage(text, usage, k.TERMINATION_MESSAGE_LIMIT) if usage else fit_text(text))
    return 1


def _usage_of(ctx: StepContext | None) -> Usage | None:
    try:
        return read_usage(ctx.state_dir) if ctx is not None else None
    except (OSError, ValueError):
        return None
