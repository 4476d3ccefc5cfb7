"""Event trigger benchmark, run by hand from the repository root:
`python -m bench.triggers [--issues 50] [--poll SECONDS [--no-webhooks]]`.

Prints the latency from opening an issue through the GitHub emulator's REST API to the triggered
AgentRun existing in the Kubernetes API (p50/p99 over `--issues` issues, one at a time), and how many
runs three redeliveries of every delivery added (target: zero). Everything runs locally: the
Kubernetes API emulator, the GitHub emulator (which signs and delivers the `issues` webhooks), and the
real operator in a thread; no kubelet, so the runs stay Pending. `--poll` also polls the emulator's
repository events API at that interval (the emulator's X-Poll-Interval set to match): with webhooks,
the runs the two sources add together must still be one per issue; with `--no-webhooks` the latency is
the polling fallback's.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.operator import crds, namespace, percentile, wait

from atomesh.api import constants as k
from atomesh.controller.main import OperatorThread
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.core.config import OperatorConfig
from atomesh.devstack.github import GitHubEmulator
from atomesh.devstack.kube import KubeAPIServer, write_kubeconfig
from atomesh.devstack.serving import BackgroundServer
from atomesh.forge.github import GitHubForge
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS

NAMESPACE = "bench-triggers"


def triage_agent(repo: str) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": "issue-triage", "namespace": NAMESPACE},
        "spec": {
            "purpose": "bench",
            "instructions": "bench",
            "input": {"schema": {"type": "object", "properties": {"issue": {"type": "integer"}}}},
            "output": {"artifact": "doc"},
            "workspace": {"repo": repo},
            "harness": {"model": "claude-sonnet-4-5"},
            "historyLimit": 1000,
            "triggers": {
                "events": [
                    {
                        "name": "opened",
                        "github": {"event": "issues", "actions": ["opened"]},
                        "input": {"issue": "payload.issue.number"},
                        "authorization": {"permission": "none"},
                    }
                ]
            },
        },
    }


def open_issue(api: str, token: str, repo: str, title: str) -> int:
    request = urllib.request.Request(
        f"{api}/repos/{repo}/issues",
        data=json.dumps({"title": title}).encode(),
        method="POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.loads(response.read())["number"])


def runs_by_issue(kube: RestKube) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for run in kube.list(AGENT_RUNS, NAMESPACE, {k.LABEL_AGENT: "issue-triage"}):
        found.setdefault(int(run["spec"]["input"]["issue"]), []).append(run["metadata"]["name"])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=50)
    parser.add_argument("--poll", type=float, default=0.0, help="poll the events API every SECONDS too")
    parser.add_argument("--no-webhooks", action="store_true", help="with --poll: polling is the only source")
    args = parser.parse_args()
    webhooks = not (args.no_webhooks and args.poll)
    with tempfile.TemporaryDirectory() as tmp, KubeAPIServer() as kube_server:
        kubeconfig = write_kubeconfig(kube_server.url, Path(tmp) / "kubeconfig")
        kube = RestKube.from_kubeconfig(str(kubeconfig))
        crds(kube)
        namespace(kube, NAMESPACE)
        emulator = GitHubEmulator(Path(tmp) / "github")
        accounts = emulator.add_default_accounts()
        with BackgroundServer(emulator.build_app, name="github-emulator") as github:
            repo = emulator.seed_sample_app()
            api = f"{github.url}/api/v3"
            secret = secrets.token_hex(16)
            config = OperatorConfig(
                runner_image="atomesh-test-runner:1", forge_api_url=api, trigger_poll_interval_seconds=args.poll
            )
            emulator.dispatcher.activity.poll_interval = max(1, int(args.poll))
            forge = GitHubForge(api, accounts.bot_token)
            with OperatorThread(config, str(kubeconfig), [NAMESPACE], forge=forge, webhook_secret=secret) as operator:
                if webhooks:
                    emulator.add_hook(operator.metrics_url + WEBHOOK_PATH, secret, ["issues"], repo)
                kube.create(AGENTS, triage_agent(repo))
                time.sleep(2.0)  # the operator's watch indexes the Agent's triggers
                latencies = []
                for index in range(args.issues):
                    start = time.monotonic()
                    number = open_issue(api, accounts.reviewer_token, repo, f"bench issue {index}")
                    wait(f"the run of issue {number}", lambda n=number: n in runs_by_issue(kube), timeout=60)
                    latencies.append(time.monotonic() - start)
                for delivery in emulator.deliveries("issues", "opened"):
                    for _ in range(3):
                        emulator.redeliver(delivery.id)
                if webhooks:
                    wait(
                        "the redeliveries",
                        lambda: len([d for d in emulator.deliveries("issues") if d.redelivery]) >= 3 * args.issues,
                    )
                if args.poll:
                    time.sleep(3 * max(1.0, args.poll))  # the poller sees every event at least once more
                runs = runs_by_issue(kube)
        kube.close()
    extra = sum(len(names) - 1 for names in runs.values())
    print(
        f"issue opened -> AgentRun created: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms over {len(latencies)} issues"
    )
    sources = ("webhooks" if webhooks else "") + (
        " + polling" if args.poll and webhooks else "polling" if args.poll else ""
    )
    print(f"sources: {sources}")
    print(
        f"runs added by {3 * args.issues if webhooks else 0} redeliveries and polling: {extra} "
        f"(runs: {sum(len(v) for v in runs.values())})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
