"""One case, run for real: the runner's three steps as processes (`atomesh runner checkout|agent|publish`,
the container's own entrypoint), with the real harness, against the Anthropic emulator playing the
case's cassette (or a recorder in front of a real model), and a GitHub emulator holding the starting
repository that the run clones, pushes to and opens its pull request on.

Each run gets its own emulators, temporary folders and ports, so cases run in parallel. What a
person reviews is saved under the case's output folder: the pull request as rendered, the check
run (the verification verdict), the publish summary, the runner's log and the model requests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import git
import yaml

from atomesh.agenttest.case import CaseError, TestCase
from atomesh.agenttest.expectations import Miss, Observed, evaluate
from atomesh.agenttest.forge import ForgeSandbox
from atomesh.agenttest.recorder import Recorder
from atomesh.agenttest.requests import describe_requests, unmatched_requests
from atomesh.agenttest.runfile import case_run_file
from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.common import parse_duration
from atomesh.api.runfile import PublishSummary
from atomesh.core.pod import runner_steps
from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.devstack.anthropic.cassette import Cassette, load_cassette
from atomesh.harness.environment import CREDENTIAL_VARIABLES
from atomesh.runner.state import read_checks, read_usage

# The key the harness sends the emulator: it wants one, as the API does; it is no secret.
REPLAY_KEY = "sk-ant-atomesh-test"
STEP_MARGIN_SECONDS = 120.0  # beyond the agent's own timeout: clone, checks and publish


@dataclass(frozen=True)
class Upstream:
    """A real Messages API to record from."""

    base_url: str
    api_key: str


@dataclass(frozen=True)
class Settings:
    output_dir: Path
    harness: str | None = None  # every case with this harness instead of its own
    tool_paths: tuple[str, ...] = ()  # folders put first on PATH (the harness CLIs)
    record: Upstream | None = None
    model: str | None = None  # every case with this model instead of its agent's own (see TestCase.cassette_for)


@dataclass
class CaseResult:
    case: TestCase
    harness: str
    output: Path
    misses: list[Miss]
    error: str | None = None  # the run could not be judged: a bad case, or a request no turn fits
    seconds: float = 0.0
    observed: Observed | None = None
    recorded: Cassette | None = None
    model: str | None = None  # the model in place of the agent's own, if any

    @property
    def passed(self) -> bool:
        return self.error is None and not self.misses

    @property
    def variant(self) -> str:
        """How this run differs from the case as written: its harness, and the model when replaced."""
        return variant(self.harness, self.model)


def variant(harness: str, model: str | None) -> str:
    return harness if model is None else f"{harness} model={model}"


def case_label(case: TestCase, harness: str, model: str | None = None) -> str:
    return f"{case.agent}/{case.name} [{variant(harness, model)}]"


def _step_env(
    pod: Path, step: str, settings: Settings, forge: ForgeSandbox, model_url: str, model_key: str
) -> dict[str, str]:
    """The container's environment: each step gets only its own credentials (as in the pod)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ATOMESH_") and key not in CREDENTIAL_VARIABLES
    }
    # The runner image has its own Python first on PATH: review checks such as `python -m pytest` use it.
    env["PATH"] = os.pathsep.join([*settings.tool_paths, str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env.update(HOME=str(pod / "work" / "home"), TMPDIR=str(pod / "work" / "tmp"))
    env[k.ENV_RUN_FILE] = str(pod / "etc" / k.RUN_FILE_NAME)
    env[k.ENV_WORKSPACE] = str(pod / "work" / "repo")
    env[k.ENV_STATE_DIR] = str(pod / "work" / "state")
    env[k.ENV_TERMINATION_MESSAGE_PATH] = str(pod / "termination" / step)
    if step in (k.RUNNER_CONTAINER_CHECKOUT, k.RUNNER_CONTAINER_PUBLISH):
        env[k.ENV_FORGE_API_URL] = forge.api_url
        env[k.ENV_FORGE_GIT_URL] = forge.git_url
        env[k.ENV_FORGE_TOKEN] = forge.token
    elif step == k.RUNNER_CONTAINER_AGENT:
        env[k.ENV_MODEL_BASE_URL] = model_url
        env[k.ENV_MODEL_API_KEY] = model_key
    return env


def _run_steps(pod: Path, log: Path, timeout: float, env_of: dict[str, dict[str, str]]) -> tuple[str, str]:
    """Run the pod's steps (checkout, agent, build when declared, publish) until one fails; returns
    (failed step or "", termination message)."""
    with log.open("w", encoding="utf-8") as out:
        for step in env_of:
            out.write(f"===== {step} =====\n")
            out.flush()
            # Its own process group, as a container: a step that overruns is stopped with its harness.
            process = subprocess.Popen(
                [sys.executable, "-m", "atomesh", "runner", step],
                env=env_of[step],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return step, f"{c.TIMEOUT}: the {step} step ran longer than {timeout:g}s"
            termination = pod / "termination" / step
            message = termination.read_text(encoding="utf-8") if termination.exists() else ""
            if code != 0:
                return step, message or f"{c.STEP_FAILED}: {step} exited {code} without a message"
            if step == k.RUNNER_CONTAINER_PUBLISH:
                return "", message
    return "", ""


def _changes(workspace: Path, base: str, wanted: list[str]) -> tuple[tuple[str, ...], dict[str, str | None]]:
    if not (workspace / ".git").exists():
        return (), {}
    with git.Repo(workspace) as repo:
        repo.git.add(A=True)
        names = repo.git.diff("--cached", "--name-only", "--no-renames", base).splitlines()
    contents: dict[str, str | None] = {}
    for path in wanted:
        target = workspace / path
        contents[path] = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
    return tuple(sorted(names)), contents


def _cassette(case: TestCase, model: str | None) -> Cassette:
    path = case.cassette_for(model)
    if not path.is_file() and model is not None:
        raise CaseError(
            f"{case.file}: nothing recorded with the model {model}: {path} does not exist; record it with "
            f"`atomesh test --record --model {model} {case.folder}` (a gateway serving {model} in ANTHROPIC_BASE_URL)"
        )
    if not path.is_file():
        raise CaseError(
            f"{case.file}: cassette: {path} does not exist; write the model's turns there, "
            "or record them with `atomesh test --record`"
        )
    try:
        return load_cassette(path)
    except (ValueError, yaml.YAMLError) as error:
        raise CaseError(f"{path}: not a valid cassette: {error}") from None


def _observe(
    pod: Path, failed_step: str, message: str, base: str, case: TestCase, forge: ForgeSandbox, out: Path
) -> Observed:
    state = pod / "work" / "state"
    changed, contents = _changes(pod / "work" / "repo", base, [c.path for c in case.spec.expect.content])
    usage, checks = read_usage(state), read_checks(state)
    if failed_step:
        reason, _, text = message.partition(": ")
        return Observed(
            outcome="failed",
            reason=reason,
            message=text.strip(),
            changed=changed,
            contents=contents,
            checks={c.name: c.passed for c in checks},
            cost_usd=usage.cost_usd if usage else None,
            turns=usage.turns if usage else None,
        )
    summary = PublishSummary.model_validate_json(message)
    (out / "publish-summary.json").write_text(json.dumps(json.loads(message), indent=2) + "\n", encoding="utf-8")
    usage = summary.usage or usage
    review = forge.review(summary, out)
    return Observed(
        outcome=summary.outcome,
        reason=summary.reason if summary.outcome == "paused" else None,  # BudgetExceeded or TokensExceeded
        message=summary.message,
        changed=changed,
        contents=contents,
        verdict=review.verdict,
        checks={c.name: c.passed for c in summary.checks or checks},
        cost_usd=usage.cost_usd if usage else None,
        turns=usage.turns if usage else None,
        title=review.title,
        labels=review.labels,
        body=review.body,
    )


def _prepare_pod(pod: Path, run_file: str) -> None:
    for sub in ("etc", "work/home", "work/tmp", "work/state", "termination"):
        (pod / sub).mkdir(parents=True, exist_ok=True)
    (pod / "etc" / k.RUN_FILE_NAME).write_text(run_file, encoding="utf-8")


def run_case(case: TestCase, harness: str, settings: Settings, output: Path, model: str | None = None) -> CaseResult:
    """Run one case with one harness (and `model` in place of the agent's own); never raises for a case's
    own problems (they fail the result)."""
    started = time.monotonic()
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    result = CaseResult(case, harness, output, [], model=model)
    try:
        with ExitStack() as stack:
            tmp = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="atomesh-test-", ignore_cleanup_errors=True))
            )
            run = case_run_file(case, harness, model)
            forge = stack.enter_context(ForgeSandbox(tmp / "forge", run.spec))
            base = forge.seed(case.repository_path, tmp / "seed")
            pod = tmp / "pod"
            _prepare_pod(pod, run.model_dump_json(by_alias=True, exclude_none=True, indent=2))
            emulator: AnthropicEmulator | None = None
            recorder: Recorder | None = None
            if settings.record is not None:
                recorder = stack.enter_context(Recorder(settings.record.base_url, pod / "work" / "repo"))
                model_url, model_key = recorder.url, settings.record.api_key
            else:
                emulator = stack.enter_context(AnthropicEmulator(_cassette(case, model)))
                model_url, model_key = emulator.url, REPLAY_KEY
            env_of = {
                step: _step_env(pod, step, settings, forge, model_url, model_key) for step in runner_steps(run.spec)
            }
            timeout = float(parse_duration(run.spec.limits.timeout)) + STEP_MARGIN_SECONDS
            failed_step, message = _run_steps(pod, output / "runner.log", timeout, env_of)
            if emulator is not None:
                requests = emulator.requests
                (output / "model-requests.txt").write_text(describe_requests(requests), encoding="utf-8")
                unmatched = unmatched_requests(requests)
                if unmatched:
                    result.error = unmatched
                elif emulator.remaining_turns:
                    result.misses.append(
                        Miss("cassette", f"{emulator.remaining_turns} scripted turn(s) were never requested")
                    )
            if recorder is not None:
                result.recorded = recorder.cassette()
            result.observed = _observe(pod, failed_step, message, base, case, forge, output)
            result.misses = evaluate(case.spec.expect, result.observed) + result.misses
    except CaseError as error:
        result.error = str(error)
    except Exception as error:  # a broken environment fails this case, never the whole session
        result.error = f"{type(error).__name__}: {error}"
    result.seconds = time.monotonic() - started
    return result
