"""What a step knows: the run file and the pod's environment contract (api/constants.py).

Paths come from the environment, never from constants, so the same code runs in a pod and on
the local kubelet, which maps pod paths to host directories.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.runfile import RunFile
from atomesh.runner.failure import StepFailure
from atomesh.runner.scrub import Scrubber

USAGE_FILE = "usage.json"
CHECKS_FILE = "checks.json"
SUMMARY_FILE = "summary.md"
SOURCE_DIR = "source"


@dataclass(frozen=True)
class StepContext:
    run: RunFile
    workspace: Path
    state_dir: Path
    termination_path: Path | None = None
    forge_api_url: str | None = None
    forge_git_url: str | None = None
    forge_token: str | None = field(default=None, repr=False)
    model_base_url: str | None = None
    model_api_key: str | None = field(default=None, repr=False)
    # Set in a runner pod: where the model proxy publishes its URL and the run's token.
    model_proxy_dir: Path | None = None
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    context_dir: Path | None = None  # where the pod mounts ConfigMap contexts (read-only)

    @property
    def scrub(self) -> Scrubber:
        return Scrubber([self.forge_token, self.model_api_key])

    def log(self, message: str) -> None:
        """One line on stderr for the pod's log, credentials masked."""
        print(f"atomesh runner: {self.scrub(message)}", file=sys.stderr, flush=True)


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise StepFailure(c.INVALID_RUN_FILE, f"environment variable {name} is not set; the runner pod sets it")
    return value


def load_run_file(path: Path) -> RunFile:
    try:
        return RunFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise StepFailure(c.INVALID_RUN_FILE, f"cannot read the run file {path}: {error.strerror}") from None
    except (ValueError, ValidationError) as error:
        raise StepFailure(c.INVALID_RUN_FILE, f"the run file {path} is not a valid RunFile: {error}") from None


def context_from_env(environ: Mapping[str, str]) -> StepContext:
    termination = environ.get(k.ENV_TERMINATION_MESSAGE_PATH)
    return StepContext(
        run=load_run_file(Path(_required(environ, k.ENV_RUN_FILE))),
        workspace=Path(_required(environ, k.ENV_WORKSPACE)),
        state_dir=Path(_required(environ, k.ENV_STATE_DIR)),
        termination_path=Path(termination) if termination else None,
        forge_api_url=environ.get(k.ENV_FORGE_API_URL) or None,
        forge_git_url=environ.get(k.ENV_FORGE_GIT_URL) or None,
        forge_token=environ.get(k.ENV_FORGE_TOKEN) or None,
        model_base_url=environ.get(k.ENV_MODEL_BASE_URL) or None,
        model_api_key=environ.get(k.ENV_MODEL_API_KEY) or None,
        model_proxy_dir=Path(proxy_dir) if (proxy_dir := environ.get(k.ENV_MODEL_PROXY_DIR)) else None,
        environ=dict(environ),
        context_dir=Path(environ[k.ENV_CONTEXT_DIR]) if environ.get(k.ENV_CONTEXT_DIR) else None,
    )
