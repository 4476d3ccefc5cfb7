"""`atomesh dev --join` as the issue's acceptance asks: one `atomesh dev --only kube` stands in for a real
cluster (its API server runs the node lifecycle controller, as kube-controller-manager would), a second
`atomesh dev --join` its kubeconfig and runs the demo against it. Intervals are short so that the
test spans more than a grace period in seconds: the joined kubelet's Node must stay Ready throughout, and
become Unknown once the joined stack has gone (which shows the controller was watching)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.integration.test_dev_command import dev_stack, kubectl, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
GRACE = 4.0  # the stand-in cluster's node monitor grace period; the joined kubelet renews every 0.25 s
NODE = "atomesh-local-join-test"
DEMO_SECONDS = 240.0


def node_state(kubeconfig: Path) -> tuple[str, set[str]]:
    """The Node's Ready status and taint keys ("" when it is not registered yet)."""
    got = kubectl(kubeconfig, "get", "node", NODE, "-o", "json")
    if got.returncode != 0:
        return "", set()
    node = json.loads(got.stdout)
    ready = next((c["status"] for c in node["status"].get("conditions", []) if c["type"] == "Ready"), "")
    return ready, {t["key"] for t in node["spec"].get("taints", [])}


def test_joined_dev_runs_the_demo_and_its_node_stays_ready(tmp_path: Path) -> None:
    cluster_dir, joined_dir = tmp_path / "cluster", tmp_path / "joined"
    cluster_dir.mkdir()
    joined_dir.mkdir()
    cluster_args = ("--only", "kube", "--node-monitor-period", "0.2", "--node-monitor-grace-period", str(GRACE))
    with dev_stack(cluster_dir, *cluster_args) as (cluster, kubeconfig):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATOMESH_", "ANTHROPIC_", "KUBECONFIG"))}
        env["TMPDIR"] = str(tmp_path)
        joined = subprocess.Popen(
            [
                *(sys.executable, "-m", "atomesh", "dev", "--join", str(kubeconfig), "--demo"),
                *("--agents", str(REPO_ROOT / "agents"), "--timeout", "150", "--node-name", NODE),
                *("--node-lease-duration-seconds", "1", "--node-status-update-frequency", "0.25"),
            ],
            cwd=joined_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        samples: list[tuple[float, str, set[str]]] = []
        try:
            deadline = time.monotonic() + DEMO_SECONDS
            while joined.poll() is None and time.monotonic() < deadline:
                ready, taints = node_state(kubeconfig)
                if ready:
                    samples.append((time.monotonic(), ready, taints))
                time.sleep(0.2)
        finally:
            if joined.poll() is None:
                joined.kill()
            output, _ = joined.communicate(timeout=60)
        assert joined.returncode == 0, output
        assert "joined through" in output
        assert "CRDs installed" in output
        assert "Succeeded, merged by reviewer" in output
        assert "https://127.0.0.1:" in output.split("joined through")[0]  # the stand-in serves TLS, as clusters do
        # The Node was Ready and kept only its own taint in every sample, over several grace periods.
        assert samples, output
        assert {ready for _, ready, _ in samples} == {"True"}
        assert all(taints == {"atomesh.io/local-runner"} for _, _, taints in samples)
        # Longer than one grace period: without renewed heartbeats the Node would have gone Unknown within it.
        assert samples[-1][0] - samples[0][0] > GRACE, "the demo ended before the Node was checked for long"
        pods = kubectl(kubeconfig, "get", "pods", "-o", "jsonpath={.items[*].spec.nodeName}")
        assert pods.stdout.split(), pods.stderr
        assert set(pods.stdout.split()) == {NODE}, pods.stdout
        # The joined stack is gone: without heartbeats the stand-in's controller marks the Node unreachable.
        deadline = time.monotonic() + 60
        while node_state(kubeconfig)[0] != "Unknown":
            assert time.monotonic() < deadline, "the Node never became Unknown"
            time.sleep(0.2)
        assert "node.kubernetes.io/unreachable" in node_state(kubeconfig)[1]
        stop(cluster)
    assert cluster.returncode == 0
