"""`atomesh dev` as a user runs it: a real subprocess, a kubeconfig that appears once the
server answers, real kubectl against it, and a clean stop on SIGTERM with nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from tests.integration.kubelet.helpers import IMAGE, alive, kubectl_binary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_SECONDS = 60.0


@contextmanager
def dev_stack(workdir: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`atomesh dev ARGS` in its own process group; yields once the kubeconfig exists."""
    kubeconfig = workdir / "kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-m", "atomesh", "dev", "--port", "0", "--kubeconfig", str(kubeconfig), *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not kubeconfig.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"atomesh dev wrote no kubeconfig (exit {process.poll()}):\n{output}")
            time.sleep(0.05)
        yield process, kubeconfig
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager or Ctrl-C would; returns the output."""
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=WAIT_SECONDS)
    return output


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )


def test_only_kube_serves_kubectl_and_stops_cleanly(tmp_path: Path) -> None:
    with dev_stack(tmp_path, "--only", "kube") as (process, kubeconfig):
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        assert server.startswith("https://127.0.0.1:")  # kubectl sends tokens only over TLS
        assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
        crd = kubectl(kubeconfig, "get", "crd", "agents.atomesh.io", "-o", "jsonpath={.spec.names.kind}")
        assert crd.returncode == 0, crd.stderr
        assert crd.stdout == "Agent"
        agents = kubectl(kubeconfig, "get", "agents")
        assert agents.returncode == 0, agents.stderr
        assert "No resources found" in agents.stderr
        output = stop(process)
    assert process.returncode == 0, output
    assert server in output
    assert f"export KUBECONFIG={kubeconfig}" in output
    assert "kubelet" not in output.split("The stack is up")[0]
    assert group_gone(process.pid)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with dev_stack(tmp_path, "--only", "kube", "--state", str(state)) as (process, kubeconfig):
        manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\ndata: {answer: '42'}\n"
        created = kubectl(kubeconfig, "apply", "-f", "-", stdin=manifest)
        assert created.returncode == 0, created.stderr
        stop(process)
    kubeconfig.unlink()
    with dev_stack(tmp_path, "--only", "kube", "--state", str(state)) as (process, kubeconfig):
        kept = kubectl(kubeconfig, "get", "configmap", "kept", "-o", "jsonpath={.data.answer}")
        assert kept.stdout == "42", kept.stderr
        stop(process)
    assert process.returncode == 0


def pod_manifest(name: str, code: str) -> str:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": IMAGE, "command": [sys.executable, "-c", code]}],
            # The local kubelet's Node is tainted: only pods that tolerate it (runner pods do) run there.
            "tolerations": [{"key": "atomesh.io/local-runner", "operator": "Exists", "effect": "NoSchedule"}],
        },
    }
    return yaml.safe_dump(pod)


def wait_phase(kubeconfig: Path, name: str, phases: tuple[str, ...]) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    phase = ""
    while time.monotonic() < deadline:
        phase = kubectl(kubeconfig, "get", "pod", name, "-o", "jsonpath={.status.phase}").stdout
        if phase in phases:
            return phase
        time.sleep(0.1)
    pytest.fail(f"pod {name} stayed {phase!r}")


def test_dev_runs_pods_and_kills_them_on_stop(tmp_path: Path) -> None:
    with dev_stack(tmp_path) as (process, kubeconfig):
        applied = kubectl(kubeconfig, "apply", "-f", "-", stdin=pod_manifest("hello", "print('hello from a pod')"))
        assert applied.returncode == 0, applied.stderr
        sleeper = "import os, time; print(os.getpid(), flush=True); time.sleep(600)"
        assert kubectl(kubeconfig, "apply", "-f", "-", stdin=pod_manifest("sleeper", sleeper)).returncode == 0
        assert wait_phase(kubeconfig, "hello", ("Succeeded", "Failed")) == "Succeeded"
        assert kubectl(kubeconfig, "logs", "hello").stdout == "hello from a pod\n"
        assert wait_phase(kubeconfig, "sleeper", ("Running",)) == "Running"
        deadline = time.monotonic() + WAIT_SECONDS
        while not (pid_text := kubectl(kubeconfig, "logs", "sleeper").stdout.strip()):
            assert time.monotonic() < deadline, "the sleeper never printed its pid"
            time.sleep(0.05)
        pid = int(pid_text)
        assert alive(pid)
        assert (tmp_path / ".atomesh" / "kubelet" / "pods").is_dir()
        output = stop(process)
    assert process.returncode == 0, output
    assert not alive(pid)
    assert group_gone(process.pid)


REPO_ROOT = Path(__file__).resolve().parents[2]


def read_until(process: subprocess.Popen[str], seen: list[str], wanted: str) -> None:
    """Lines of the process's output into `seen` until one contains `wanted` (fails on exit first)."""
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if wanted in line:
            return
    pytest.fail(f"atomesh dev ended (exit {process.wait()}) before printing {wanted!r}:\n{''.join(seen)}")


def test_dev_narrates_a_run_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """The whole stack: a run created with kubectl is narrated (created, phases, its pull request with
    the URL); SIGINT, as Ctrl-C sends it, stops every server with one line, no traceback, exit 130."""
    with dev_stack(tmp_path, "--agents", str(REPO_ROOT / "agents")) as (process, kubeconfig):
        seen: list[str] = []
        read_until(process, seen, "Stop with Ctrl-C.")
        applied = kubectl(kubeconfig, "apply", "-f", str(REPO_ROOT / "agents" / "issue-triage.yaml"))
        assert applied.returncode == 0, applied.stderr
        run = "apiVersion: atomesh.io/v1alpha1\nkind: AgentRun\nmetadata: {name: told}\n"
        run += "spec: {agentRef: {name: issue-triage}, input: {issue: 1}}\n"
        created = kubectl(kubeconfig, "create", "-f", "-", stdin=run)
        assert created.returncode == 0, created.stderr
        read_until(process, seen, "told: pull request #1 opened")
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        rest, _ = process.communicate(timeout=WAIT_SECONDS)
    output = "".join(seen) + rest
    narration = [line.rstrip("\n") for line in seen if line.startswith("run ")]
    assert narration[0] == "run        told: created (Agent issue-triage)", output
    url = narration[-1].rsplit(" ", 1)[-1]
    assert url.startswith("http://127.0.0.1:"), output
    assert url.endswith("/demo/sample-app/pull/1"), output
    assert "run        told: Pending → Running" in narration, output
    assert f"run        told: Running → AwaitingReview  {url}" in narration, output
    assert process.returncode == 130, output
    after_banner = output.split("Stop with Ctrl-C.\n", 1)[1].splitlines()
    noise = [line for line in after_banner if not line.startswith("run ") and line not in ("stopping", "stopped")]
    assert noise == [], output
    assert after_banner[-2:] == ["stopping", "stopped"], output
    assert group_gone(process.pid)


def test_quiet_dev_narrates_nothing(tmp_path: Path) -> None:
    """--quiet: a run that waits for its missing Agent is Pending with a reason, and not a line is told."""
    with dev_stack(tmp_path, "--quiet") as (process, kubeconfig):
        seen: list[str] = []
        read_until(process, seen, "Stop with Ctrl-C.")
        run = "apiVersion: atomesh.io/v1alpha1\nkind: AgentRun\nmetadata: {name: hushed}\n"
        run += "spec: {agentRef: {name: nobody}}\n"
        assert kubectl(kubeconfig, "create", "-f", "-", stdin=run).returncode == 0
        deadline = time.monotonic() + WAIT_SECONDS
        while kubectl(kubeconfig, "get", "agr", "hushed", "-o", "jsonpath={.status.reason}").stdout != "AgentNotFound":
            assert time.monotonic() < deadline, "the operator never looked at the run"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=WAIT_SECONDS)
    output = "".join(seen) + rest
    assert process.returncode == 130, output
    assert "hushed" not in output
    assert output.rstrip("\n").splitlines()[-2:] == ["stopping", "stopped"], output
