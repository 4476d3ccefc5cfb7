"""The agent step's side of the model proxy: wait for it to publish its URL and the run's token.

The proxy is a sidecar started just before this step; Kubernetes starts the next init container as
soon as a sidecar runs, so the step waits until the proxy has written `url` (written after `token`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.runner.failure import StepFailure

PROXY_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProxyEndpoint:
    url: str
    token: str = field(repr=False)


def wait_for_proxy(directory: Path, timeout: float = PROXY_WAIT_SECONDS) -> ProxyEndpoint:
    """The proxy's loopback URL and the run's token; StepFailure when it never becomes ready."""
    url_file, token_file = directory / k.MODEL_PROXY_URL_FILE, directory / k.MODEL_PROXY_TOKEN_FILE
    deadline = time.monotonic() + timeout
    while not url_file.is_file():
        if time.monotonic() >= deadline:
            raise StepFailure(
                c.MODEL_ERROR,
                f"the {k.RUNNER_CONTAINER_MODEL_PROXY} container published no URL within {timeout:g}s; "
                "see its log (kubectl logs POD -c model-proxy)",
            )
        time.sleep(_POLL_SECONDS)
    return ProxyEndpoint(
        url=url_file.read_text(encoding="utf-8").strip(), token=token_file.read_text(encoding="utf-8").strip()
    )
