"""The kill -9 campaign, run by hand from the repository root:
`python -m bench.chaos_kill [--runs 200] [--seed 20261207] [--parallel 4] [--kill-every 6]`.

Whole run lifecycles on the development stack while the operator is SIGKILLed at random moments:
the Kubernetes API emulator, the local kubelet running the REAL runner steps, the GitHub emulator
(demo/sample-app, signed webhooks to the operator) and the Anthropic emulator run in this process;
the operator runs as `python -m atomesh operator`, a process of its own, killed and started again.
Each run writes one new file and publishes a pull request; a reviewer merges or closes it (seeded
choice) through GitHub's REST API, as a person would, whether the operator is up or not.

Reports, each of which must be 0: duplicate runner pods (a name created twice), duplicate pull
requests (two for one branch), lost outcomes (a run not finished, or finished without its pull
request's decision), and disagreements between a run's status and its pull request on GitHub
(merged ↔ Succeeded, closed ↔ Rejected). Also: kills, the operator's tracebacks, time taken.
Exit status 1 when any of the four is not 0.
"""

from __future__ import annotations

import os
import sys

# Run as `python bench/chaos_kill.py`, this file's folder comes first on sys.path and bench/operator.py
# would shadow the standard library's `operator` module; drop that entry before anything imports it.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import contextlib
import json
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from github import Auth, Github

from atomesh.devstack.anthropic.server import AnthropicEmulator
from atomesh.devstack.github import GitHubEmulator
from atomesh.devstack.kube import KubeAPIServer, write_kubeconfig
from atomesh.devstack.kubelet.background import BackgroundKubelet
from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.devstack.serving import BackgroundServer
from atomesh.forge.webhook import EVENTS
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "chaos"
IMAGE = "ghcr.io/atomesh/atomesh:chaos"
WEBHOOK_SECRET = "chaos-webhook-secret"
MODEL_KEY = "sk-ant-chaos-model-key"
TERMINAL = {"Succeeded", "Rejected", "Failed", "Cancelled"}
# Every run of the agent: one `run` turn that writes a file no other run writes, then a summary.
CASSETTE = [
    {
        "match": {"tool_result": False},
        "times": 0,
        "tools": [{"tool": "run", "input": {"command": "n=$(date +%s%N); printf 'note %s\\n' $n > docs/chaos-$n.md"}}],
    },
    {
        "match": {"tool_result": True},
        "times": 0,
        "text": "Added a note.",
        "usage": {"input_tokens": 50, "output_tokens": 5},
    },
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def send(url: str, method: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


class Operator:
    """`atomesh operator` as its own process, killed with SIGKILL and started again on the same port."""

    def __init__(self, kubeconfig: Path, github: str, bot_token: str, logs: Path) -> None:
        self.port = free_port()
        self.logs = logs
        self.starts = 0
        self.env = {
            **os.environ,
            "ATOMESH_RUNNER_IMAGE": IMAGE,
            "ATOMESH_FORGE_API_URL": f"{github}/api/v3",
            "ATOMESH_FORGE_GIT_URL": github,
            "ATOMESH_FORGE_TOKEN": bot_token,
            "ATOMESH_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ATOMESH_REVIEW_POLL_INTERVAL": "5",
        }
        self.command = [sys.executable, "-m", "atomesh", "operator", "--all-namespaces", "--standalone"]
        self.command += [
            "--metrics-port",
            str(self.port),
            "--metrics-host",
            "127.0.0.1",
            "--kubeconfig",
            str(kubeconfig),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/github"

    def start(self) -> None:
        self.starts += 1
        with (self.logs / f"operator-{self.starts:03d}.log").open("wb") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def tracebacks(self) -> int:
        return sum(
            path.read_text(errors="replace").count("Traceback (most recent call last)")
            for path in self.logs.glob("*.log")
        )

    def first_traceback(self, lines: int = 40) -> list[str]:
        """The log lines around the first traceback (the logs go with the campaign's temporary folder)."""
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            start = next((i for i, line in enumerate(text) if "Traceback (most recent call last)" in line), None)
            if start is not None:
                return [f"{path.name}:", *text[max(0, start - 3) : start + lines]]
        return []


class PodCreations:
    """Every runner pod the API server created (ADDED on its watch), by name and uid."""

    def __init__(self, url: str) -> None:
        self.seen: set[tuple[str, str]] = set()
        self._url = f"{url}/api/v1/namespaces/{NAMESPACE}/pods?watch=true"
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        # A watch the server ends is opened again: it lists what exists as ADDED once more, and a
        # pod is counted by its uid, so a reconnect adds nothing that was not created.
        while True:
            with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(self._url, timeout=3600) as response:
                for line in response:
                    event = json.loads(line)
                    if event["type"] == "ADDED":
                        meta = event["object"]["metadata"]
                        self.seen.add((meta["name"], meta["uid"]))
            time.sleep(0.2)

    def duplicates(self) -> list[str]:
        return sorted(name for name, count in Counter(name for name, _ in self.seen).items() if count > 1)


def setup(server: str, github: str, bot_token: str, model_url: str) -> None:
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        send(server + crds, "POST", yaml.safe_load(path.read_text()))
    time.sleep(0.5)  # the emulator serves a CRD's kind once it is Established
    send(
        f"{server}/api/v1/namespaces",
        "POST",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    )
    for name, key, value in (("atomesh-forge", "token", bot_token), ("atomesh-model", "api-key", MODEL_KEY)):
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {key: value}}
        send(f"{server}/api/v1/namespaces/{NAMESPACE}/secrets", "POST", secret)
    agent = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": "notes", "namespace": NAMESPACE},
        "spec": {
            "purpose": "Add a note.",
            "instructions": "Add a note under docs/.",
            "output": {"artifact": "doc", "paths": ["docs/**"]},
            "workspace": {"repo": "demo/sample-app", "baseBranch": "main"},
            "harness": {"kind": "litellm", "model": "claude-sonnet-4-5", "maxTurns": 4, "baseURL": model_url},
            "limits": {"timeout": "5m"},
            "historyLimit": 1000,
        },
    }
    send(f"{server}/apis/atomesh.io/v1alpha1/namespaces/{NAMESPACE}/agents", "POST", agent)


class Reviewer:
    """Decides every pull request once, merge or close by a seeded choice, through the REST API."""

    def __init__(self, github: str, token: str, rng: random.Random) -> None:
        self.repo = Github(base_url=f"{github}/api/v3", auth=Auth.Token(token), retry=None).get_repo("demo/sample-app")
        self.rng = rng
        self.decided: dict[int, str] = {}  # pull request number -> merged | closed

    def decide(self, number: int) -> None:
        if number in self.decided:
            return
        pull = self.repo.get_pull(number)
        if self.rng.random() < 0.7 and pull.merge().merged:
            self.decided[number] = "merged"
        else:
            pull.edit(state="closed")
            self.decided[number] = "closed"


def campaign(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, KubeAPIServer() as server:
        root = Path(tmp)
        kubeconfig = write_kubeconfig(server.url, root / "kubeconfig")
        emulator = GitHubEmulator(root / "github")
        accounts = emulator.add_default_accounts()
        forge = BackgroundServer(emulator.build_app, name="github-emulator")
        forge.start()
        model = AnthropicEmulator(CASSETTE).start()
        (root / "logs").mkdir()
        try:
            emulator.seed_sample_app()
            setup(server.url, forge.url, accounts.bot_token, model.url)
            operator = Operator(kubeconfig, forge.url, accounts.bot_token, root / "logs")
            emulator.add_hook(operator.webhook_url, WEBHOOK_SECRET, list(EVENTS), "demo/sample-app")
            pods = PodCreations(server.url)
            kubelet = KubeletConfig(server=server.url, root_dir=root / "kubelet", retry_interval=0.2)
            with BackgroundKubelet(kubelet):
                reviewer = Reviewer(forge.url, accounts.reviewer_token, rng)
                result = drive(args, rng, RestKube.from_kubeconfig(str(kubeconfig)), operator, reviewer)
            return report(result, pods, operator, reviewer)
        finally:
            model.stop()
            forge.stop()


def drive(
    args: argparse.Namespace, rng: random.Random, kube: RestKube, operator: Operator, reviewer: Reviewer
) -> dict[str, Any]:
    started = time.monotonic()
    operator.start()
    kills, created = 0, 0
    next_kill = started + rng.expovariate(1 / args.kill_every)
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        runs = {run["metadata"]["name"]: run for run in kube.list(AGENT_RUNS, NAMESPACE)}
        phases = {name: (run.get("status") or {}).get("phase") for name, run in runs.items()}
        active = sum(1 for phase in phases.values() if phase not in TERMINAL)
        if created < args.runs and active < args.parallel:
            manifest: dict[str, Any] = {
                "apiVersion": "atomesh.io/v1alpha1",
                "kind": "AgentRun",
                "metadata": {"name": f"note-{created:04d}", "namespace": NAMESPACE},
                "spec": {"agentRef": {"name": "notes"}},
            }
            kube.create(AGENT_RUNS, manifest)
            created += 1
        for name, run in runs.items():
            review = (run.get("status") or {}).get("review") or {}
            if phases[name] == "AwaitingReview" and review.get("number"):
                reviewer.decide(int(review["number"]))
        if created == args.runs and all(phase in TERMINAL for phase in phases.values()) and len(phases) == args.runs:
            break
        if time.monotonic() >= next_kill:
            operator.kill()
            kills += 1
            time.sleep(rng.uniform(0.0, 2.0))  # down for a moment: webhooks meanwhile are lost, polls catch up
            operator.start()
            next_kill = time.monotonic() + rng.expovariate(1 / args.kill_every)
        time.sleep(0.3)
    operator.kill()
    return {
        "kills": kills,
        "created": created,
        "seconds": time.monotonic() - started,
        "runs": kube.list(AGENT_RUNS, NAMESPACE),
        "decided": dict(reviewer.decided),
    }


def report(result: dict[str, Any], pods: PodCreations, operator: Operator, reviewer: Reviewer) -> int:
    pulls = list(reviewer.repo.get_pulls(state="all"))
    by_branch = Counter(pull.head.ref for pull in pulls)
    pull_of = {pull.head.ref: pull for pull in pulls}
    lost: list[str] = []
    disagreements: list[str] = []
    failed: Counter[str] = Counter()
    for run in result["runs"]:
        name, status = run["metadata"]["name"], run.get("status") or {}
        phase, review = status.get("phase"), status.get("review") or {}
        branch = (status.get("artifact") or {}).get("branch") or f"atomesh/notes/{name}"
        pull = pull_of.get(branch)
        if phase not in TERMINAL or status.get("reason") == "PodLost":
            lost.append(f"{name}: {phase} {status.get('reason')}")
            continue
        if phase == "Failed":
            failed[str(status.get("reason"))] += 1
        if pull is None:
            if review.get("number"):
                disagreements.append(f"{name}: status names pull request #{review['number']}, GitHub has none")
            continue
        on_github = "merged" if pull.merged else pull.state  # merged | closed | open
        wanted = {
            "merged": ("Succeeded", "merged"),
            "closed": ("Rejected", "closed"),
            "open": ("AwaitingReview", "open"),
        }
        if (phase, review.get("state")) != wanted[on_github] or review.get("number") != pull.number:
            disagreements.append(
                f"{name}: {phase}/{review.get('state')} #{review.get('number')}, GitHub #{pull.number} {on_github}"
            )
        decided = reviewer.decided.get(pull.number)
        if decided is not None and decided != on_github:
            disagreements.append(f"{name}: the reviewer {decided} #{pull.number}, GitHub says {on_github}")
    verdicts = Counter(reviewer.decided.values())
    figures = {
        "lifecycles": len(result["runs"]),
        "kills": result["kills"],
        "operator starts": operator.starts,
        "seconds": round(result["seconds"]),
        "pull requests": len(pulls),
        "merged / closed by the reviewer": f"{verdicts['merged']} / {verdicts['closed']}",
        "failed runs (by reason)": dict(failed),
        "operator tracebacks": operator.tracebacks(),
        "duplicate pods": len(pods.duplicates()),
        "duplicate pull requests": sum(1 for count in by_branch.values() if count > 1),
        "lost outcomes": len(lost),
        "status/GitHub disagreements": len(disagreements),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    for line in [*pods.duplicates(), *(b for b, n in by_branch.items() if n > 1), *lost, *disagreements][:40]:
        print("  " + line)
    for line in operator.first_traceback():
        print("  | " + line)
    bad = (
        figures["duplicate pods"],
        figures["duplicate pull requests"],
        figures["lost outcomes"],
        figures["status/GitHub disagreements"],
    )
    return 1 if any(bad) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200, help="run lifecycles (%(default)s)")
    parser.add_argument("--seed", type=int, default=20261207, help="random seed (%(default)s)")
    parser.add_argument("--parallel", type=int, default=4, help="runs active at a time (%(default)s)")
    parser.add_argument("--kill-every", type=float, default=6.0, help="mean seconds between kills (%(default)s)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after (%(default)s s)")
    return campaign(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
