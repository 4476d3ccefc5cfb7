"""The environment a harness process gets: no inherited credentials, a private home, the workspace as PWD.

In a runner pod the only model credential a harness is given is the run's proxy token, set by its
adapter together with the model proxy's loopback URL (ModelAccess.base_url/api_key); the real key
stays in the pod's model-proxy container. Any other credential variable is removed here.

Some CLIs take their working directory from $PWD rather than the process's cwd, so PWD must
be the workspace, or their file tools resolve paths against the caller's directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# Never handed to a harness process except the one variable its adapter sets on purpose.
CREDENTIAL_VARIABLES = frozenset(
    {
        "ATOMESH_FORGE_TOKEN",
        "ATOMESH_MODEL_API_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
    }
)


@contextmanager
def scratch_dir(env: Mapping[str, str], prefix: str) -> Iterator[Path]:
    """A private directory for a harness's home and config, removed afterwards (honours TMPDIR)."""
    parent = env.get("TMPDIR") or None
    if parent:
        # In a runner pod TMPDIR lies on the shared emptyDir, which starts empty.
        Path(parent).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent, ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


def process_env(base: Mapping[str, str], scratch: Path, workspace: Path) -> dict[str, str]:
    env = {key: value for key, value in base.items() if key not in CREDENTIAL_VARIABLES}
    home = scratch / "home"
    for sub in ("home", "config", "data", "cache", "state"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        PWD=str(workspace),
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_DATA_HOME=str(scratch / "data"),
        XDG_CACHE_HOME=str(scratch / "cache"),
        XDG_STATE_HOME=str(scratch / "state"),
    )
    return env


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
