"""A stand-in runner image for operator tests: reads the runner-pod env contract and behaves as
the run input asks (`mode`: publish, noChanges, fail-checkout, fail-agent, fail-publish, sleep; `pull`:
the pull request a publish reports).

The local kubelet maps the test image to `python fake_runner.py`, and passes the container's
args (["runner", STEP]) through. Stdlib only: it runs as a separate process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def model_proxy() -> int:
    """The sidecar: publish a URL and token as the real proxy does, then run until stopped."""
    directory = Path(os.environ["ATOMESH_MODEL_PROXY_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    seen = sorted(name for name in os.environ if name in ("ATOMESH_FORGE_TOKEN", "ATOMESH_MODEL_API_KEY"))
    (directory / "seen.json").write_text(json.dumps(seen))
    (directory / "token").write_text("fake-run-token")
    (directory / "url").write_text("http://127.0.0.1:9")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(1)


def main() -> int:
    step = sys.argv[-1]
    if step == "model-proxy":
        return model_proxy()
    run = json.loads(Path(os.environ["ATOMESH_RUN_FILE"]).read_text())
    behaviour = run.get("input") or {}
    mode = behaviour.get("mode", "publish")
    state = Path(os.environ["ATOMESH_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    # Which credentials each step saw, by name only, for the test to check separation.
    seen = sorted(name for name in os.environ if name in ("ATOMESH_FORGE_TOKEN", "ATOMESH_MODEL_API_KEY"))
    (state / f"{step}-credentials.json").write_text(json.dumps(seen))
    if step == "agent":  # the proxy is running and published what the agent step needs
        proxy = Path(os.environ["ATOMESH_MODEL_PROXY_DIR"])
        while not (proxy / "url").exists():  # the sidecar runs; it publishes its URL last
            time.sleep(0.05)
        (state / "model-proxy-credentials.json").write_text((proxy / "seen.json").read_text())
        assert (proxy / "token").read_text() == "fake-run-token"
    if mode == "sleep" and step == "agent":
        time.sleep(float(behaviour.get("seconds", 30)))
    if mode == f"fail-{step}":
        print(f"{step}: simulated failure for run {run['run']}", file=sys.stderr)
        return 3
    if step != "publish":
        return 0
    credentials = {
        s: json.loads((state / f"{s}-credentials.json").read_text()) for s in ("checkout", "model-proxy", "agent")
    }
    credentials["publish"] = seen
    if mode == "noChanges":
        summary: dict[str, object] = {"outcome": "noChanges", "message": "nothing to change"}
    else:
        summary = {
            "outcome": "published",
            "artifact": {"type": "doc", "branch": run["branch"], "files": ["README.md"], "additions": 1},
            # `pull` names a pull request that exists, for tests that follow it in a forge.
            "review": behaviour.get("pull")
            or {"repo": "acme/site", "number": 1, "url": "http://forge.invalid/acme/site/pull/1"},
            "usage": {"inputTokens": 100, "outputTokens": 20, "costUSD": 0.01, "turns": 1},
            "message": json.dumps(credentials, sort_keys=True),
        }
    Path(os.environ["ATOMESH_TERMINATION_MESSAGE_PATH"]).write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
