"""`atomesh dev`: the development stack in the foreground until Ctrl-C or SIGTERM.

Components start in order, each printing its URL, and stop in reverse: ``kube`` (API server
emulator, CRDs, kubeconfig), ``kubelet`` (runs runner pods as local processes), ``github``
(GitHub emulator with `demo/sample-app`; review pull requests in a browser there), ``model``
(Anthropic emulator playing a cassette; skipped with ``--model-url``), ``operator`` (the
real operator, wired to the others) and ``console`` (the web console, `atomesh console`, on the stack).
``--join KUBECONFIG`` puts an existing API server (kind, k3d,
a cluster) in the place of ``kube``: the CRDs are installed there and the kubelet registers its Node
there (see `atomesh.devstack.joined`). ``--demo`` then runs one example agent (``--agent NAME``)
or mesh (``--mesh NAME``) through the whole review loop and exits (see `atomesh.commands.demo`).

Once the stack is up it narrates the runs of the operator's namespace from a watch of AgentRuns
(`atomesh.devstack.narrator`; ``--quiet`` turns it off; the demo's own runs it leaves to the demo).
Ctrl-C stops every component in reverse order and exits 130, as a shell reports an interrupted
command; SIGTERM exits 0, as a service manager expects.

Real model credentials: ``--model-url URL`` with the key in ``$ANTHROPIC_API_KEY`` skips the
model emulator; runner pods then call that Anthropic-compatible API (the key goes into the
model Secret of the namespace, never to the terminal).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from atomesh.devstack.anthropic.component import AnthropicComponent
from atomesh.devstack.joined import JoinedCluster, JoinError
from atomesh.devstack.kube.nodelifecycle import NODE_MONITOR_GRACE_PERIOD, NODE_MONITOR_PERIOD
from atomesh.devstack.kubelet import DEFAULT_IMAGE_PATTERN
from atomesh.devstack.kubelet.apiclient import ApiClient
from atomesh.devstack.kubelet.heartbeat import NodeRegistrationError
from atomesh.devstack.kubelet.nodestatus import (
    LEASE_DURATION_SECONDS,
    LOCAL_RUNNER_LABELS,
    LOCAL_RUNNER_TAINTS,
    STATUS_UPDATE_FREQUENCY,
    local_node_name,
)
from atomesh.devstack.narrator import Narrator
from atomesh.devstack.stack import (
    Component,
    GitHubComponent,
    KubeApiComponent,
    KubeEndpoint,
    KubeletComponent,
    Stack,
    StackStillRunning,
    load_crds,
)

DEFAULT_KUBECONFIG = Path(".atomesh") / "kubeconfig"
DEFAULT_KUBELET_DIR = Path(".atomesh") / "kubelet"
HARNESSES = ("litellm", "claude-code", "opencode")
MODEL_KEY_ENV = "ANTHROPIC_API_KEY"

# Built components so far, by name, for builders of later components (kubelet needs kube's URL).
Built = dict[str, Component]
Builder = Callable[[argparse.Namespace, Built], Component]
C = TypeVar("C")


def need(built: Built, name: str, kind: type[C], by: str) -> C:
    component = built.get(name)
    if not isinstance(component, kind):
        raise ValueError(f"--only: the {by} component needs {name} too")
    return component


def build_kube(args: argparse.Namespace, built: Built) -> Component:
    if args.join:
        return JoinedCluster(args.join, crds=load_crds(args.crds))
    return KubeApiComponent(
        port=args.port,
        kubeconfig=args.kubeconfig,
        state_dir=args.state,
        crds=load_crds(args.crds),
        node_name=args.node_name,
        node_monitor_period=args.node_monitor_period,
        node_monitor_grace_period=args.node_monitor_grace_period,
    )


def build_kubelet(args: argparse.Namespace, built: Built) -> Component:
    kube = need(built, "kube", KubeEndpoint, "kubelet")
    # Absolute: pod processes run in their own working directories, where a relative path breaks.
    # The same labelled, tainted Node joined or not, so runner pods are placed the same way in both.
    return KubeletComponent(
        kube,
        args.kubelet_dir.resolve(),
        image_pattern=args.image_pattern,
        node_name=args.node_name,
        node_labels=LOCAL_RUNNER_LABELS,
        node_taints=LOCAL_RUNNER_TAINTS,
        node_lease_duration_seconds=args.node_lease_duration_seconds,
        node_status_update_frequency=args.node_status_update_frequency,
    )


def build_github(args: argparse.Namespace, built: Built) -> Component:
    return GitHubComponent(port=args.github_port)


def agents_cassette() -> Path:
    """The default script: the example agents' changes, for every harness (package data)."""
    return Path(str(resources.files("atomesh.devstack.anthropic") / "cassettes" / "agents.yaml"))


class Skipped:
    """A component left out on purpose; it only says so in its place in the start order."""

    def __init__(self, name: str, note: str) -> None:
        self.name = name
        self._note = note

    async def start(self) -> str:
        return self._note

    async def stop(self) -> None:
        return None


def build_model(args: argparse.Namespace, built: Built) -> Component:
    if args.model_url:
        return Skipped("model", f"skipped: runner pods use --model-url with the key in ${MODEL_KEY_ENV}")
    return AnthropicComponent(args.cassette or agents_cassette())


def build_operator(args: argparse.Namespace, built: Built) -> Component:
    from atomesh.commands.dev_operator import ModelEndpoint, OperatorComponent  # loads kopf: only when used

    kube = need(built, "kube", KubeEndpoint, "operator")
    github = need(built, "github", GitHubComponent, "operator")
    emulator = built.get("model")
    if isinstance(emulator, AnthropicComponent):
        # Any non-empty key satisfies the emulator; a fresh one per stack keeps the pattern honest.
        model = ModelEndpoint(lambda: emulator.url, f"sk-ant-dev-{secrets.token_hex(16)}")
    elif args.model_url:
        model = ModelEndpoint(lambda: str(args.model_url), os.environ[MODEL_KEY_ENV])
    else:
        raise ValueError("--only: the operator component needs model too, or --model-url")
    return OperatorComponent(kube, github, model, image_pattern=args.image_pattern)


def build_console(args: argparse.Namespace, built: Built) -> Component:
    from atomesh.commands.console import ConsoleComponent

    kube = need(built, "kube", KubeEndpoint, "console")
    return ConsoleComponent(kube.kubeconfig, port=args.console_port)


# In start order.
COMPONENTS: list[tuple[str, Builder]] = [
    ("kube", build_kube),
    ("kubelet", build_kubelet),
    ("github", build_github),
    ("model", build_model),
    ("operator", build_operator),
    ("console", build_console),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = [name for name, _ in COMPONENTS]
    parser.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default 0: a free port)")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep Kubernetes objects in DIR across runs (the GitHub emulator always starts afresh)",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, default=DEFAULT_KUBECONFIG, help=f"where to write it (default {DEFAULT_KUBECONFIG})"
    )
    parser.add_argument(
        "--join",
        type=Path,
        default=None,
        metavar="KUBECONFIG",
        help="use the API server of this kubeconfig (kind, k3d, a cluster) instead of the emulator: install the "
        "CRDs there, register the local kubelet's Node, run the operator against it",
    )
    parser.add_argument(
        "--only", default=None, metavar="NAMES", help=f"comma-separated components to run, of {','.join(names)}"
    )
    parser.add_argument(
        "--crds", type=Path, default=None, metavar="DIR", help="apply CRDs from DIR instead of the built-in ones"
    )
    parser.add_argument(
        "--kubelet-dir", type=Path, default=DEFAULT_KUBELET_DIR, help=f"pod directories (default {DEFAULT_KUBELET_DIR})"
    )
    parser.add_argument(
        "--image-pattern", default=DEFAULT_IMAGE_PATTERN, help="regex of images the kubelet runs (default: %(default)s)"
    )
    parser.add_argument(
        "--node-name", default=local_node_name(), help="the local kubelet's Node (default: %(default)s)"
    )
    parser.add_argument(
        "--node-lease-duration-seconds",
        type=int,
        default=LEASE_DURATION_SECONDS,
        metavar="N",
        help="the Node's Lease duration; renewed every quarter of it (kubelet default %(default)s)",
    )
    parser.add_argument(
        "--node-status-update-frequency",
        type=float,
        default=STATUS_UPDATE_FREQUENCY,
        metavar="SECONDS",
        help="how often the kubelet computes NodeStatus (kubelet default %(default)s)",
    )
    parser.add_argument(
        "--node-monitor-grace-period",
        type=float,
        default=NODE_MONITOR_GRACE_PERIOD,
        metavar="SECONDS",
        help="emulator: a Node without heartbeats this long becomes Unknown (kube-controller-manager %(default)s)",
    )
    parser.add_argument(
        "--node-monitor-period",
        type=float,
        default=NODE_MONITOR_PERIOD,
        metavar="SECONDS",
        help="emulator: how often Node heartbeats are checked (kube-controller-manager %(default)s)",
    )
    parser.add_argument("--github-port", type=int, default=0, help="GitHub emulator port (default 0: a free port)")
    parser.add_argument("--console-port", type=int, default=0, help="web console port (default 0: a free port)")
    parser.add_argument(
        "--cassette",
        type=Path,
        default=None,
        metavar="FILE",
        help="the model emulator's script (default: the one written for the example agents in agents/)",
    )
    parser.add_argument(
        "--model-url",
        default=None,
        metavar="URL",
        help=f"use a real Anthropic-compatible API instead of the model emulator; the key comes from ${MODEL_KEY_ENV}",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print no narration (run phases, pull requests, revisions, mesh edges)"
    )
    demo = parser.add_argument_group("demo")
    demo.add_argument("--demo", action="store_true", help="run an example agent through the review loop, then exit")
    demo.add_argument("--harness", choices=HARNESSES, default="litellm", help="the demo agent's harness (%(default)s)")
    demo.add_argument(
        "--agent", metavar="NAME", default=None, help="with --demo: run the Agent NAME from --agents (issue-triage)"
    )
    demo.add_argument("--mesh", metavar="NAME", default=None, help="with --demo: run the Mesh NAME from --agents")
    demo.add_argument(
        "--trigger",
        action="store_true",
        help="with --demo: open an issue and follow the run the agent's event trigger starts",
    )
    demo.add_argument(
        "--agents", type=Path, default=Path("agents"), metavar="DIR", help="example manifests (default: ./agents)"
    )
    demo.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS", help="give up after (%(default)s)")


def selected(args: argparse.Namespace) -> list[tuple[str, Builder]]:
    names = [name for name, _ in COMPONENTS]
    wanted = names if args.only is None else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in names]
    if unknown or not wanted:
        raise ValueError(f"--only {args.only}: choose from {', '.join(names)}")
    return [(name, builder) for name, builder in COMPONENTS if name in wanted]


def check(args: argparse.Namespace) -> None:
    """Mistakes found before anything starts."""
    if args.join:
        if args.state is not None or args.port != 0 or args.kubeconfig != DEFAULT_KUBECONFIG:
            raise ValueError("--join uses the cluster of its kubeconfig: --state, --port and --kubeconfig do not apply")
        if not args.join.is_file():
            raise FileNotFoundError(f"--join {args.join}: no such kubeconfig")
        args.kubeconfig = args.join  # what the operator, the demo and the hints below use
    if args.model_url and not os.environ.get(MODEL_KEY_ENV):
        raise ValueError(f"--model-url needs the API key in ${MODEL_KEY_ENV}")
    if args.mesh and not args.demo:
        raise ValueError("--mesh NAME runs with --demo")
    if args.agent and not args.demo:
        raise ValueError("--agent NAME runs with --demo")
    if args.trigger and (not args.demo or args.mesh):
        raise ValueError("--trigger runs with --demo (and an Agent, not --mesh)")
    if args.agent and args.mesh:
        raise ValueError("--agent NAME and --mesh NAME: the demo runs one of them")
    if args.demo:
        from atomesh.commands.demo import preflight

        preflight(args)


def usage(args: argparse.Namespace) -> str:
    return (
        "\nThe stack is up. In another shell:\n"
        f"  export KUBECONFIG={args.kubeconfig.resolve()}\n"
        "  kubectl get agents\n"
        "Stop with Ctrl-C."
    )


async def after_start(args: argparse.Namespace, built: Built, stopping: asyncio.Event) -> int | None:
    """Steps once every component runs: --demo, whose exit code ends the stack; None keeps it up."""
    if not args.demo:
        say(usage(args))
        return None
    from atomesh.commands.demo import run_demo

    return await run_demo(args, built, stopping)


_output = threading.Lock()


def say(line: str) -> None:
    """One whole line to stdout: the stack, the narrator and the demo's worker thread print concurrently."""
    with _output:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def start_narrator(args: argparse.Namespace, built: Built) -> asyncio.Task[None] | None:
    """Narration of the runs in the operator's namespace, unless --quiet or there is no operator. The
    demo reports its own runs step by step, so narration leaves those to it."""
    kube, operator = built.get("kube"), built.get("operator")
    if args.quiet or operator is None or not isinstance(kube, KubeEndpoint):
        return None
    namespace = str(getattr(operator, "namespace", "default"))
    told_elsewhere: Callable[[Mapping[str, Any]], bool] = lambda run: False  # noqa: E731
    if args.demo:
        from atomesh.commands.demo import reported_by_demo

        told_elsewhere = partial(reported_by_demo, args.mesh)
    api = ApiClient(kube.url, kube.token, kube.tls)

    async def narrate() -> None:
        try:
            await Narrator(api, namespace, say, told_elsewhere).run()
        finally:
            await api.close()

    return asyncio.get_running_loop().create_task(narrate(), name="narrator")


async def serve(args: argparse.Namespace) -> int:
    """The stack until the demo ends or a signal comes: 130 for SIGINT (as a shell reports Ctrl-C), 0
    for SIGTERM (a service manager's stop), else the demo's code."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    built: Built = {}
    for name, builder in selected(args):
        built[name] = builder(args, built)
    stack = Stack(list(built.values()), say=say)
    code = 0
    narrator: asyncio.Task[None] | None = None
    try:
        start = asyncio.ensure_future(stack.start())
        stop_wait = asyncio.ensure_future(stopping.wait())
        done, _ = await asyncio.wait({start, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if start in done:
            start.result()
            narrator = start_narrator(args, built)
            result = await after_start(args, built, stopping)
            if result is None:
                await stop_wait
            else:
                code = result
        else:
            start.cancel()
            await asyncio.gather(start, return_exceptions=True)
        stop_wait.cancel()
    finally:
        say("stopping")  # stopping the operator and runner pods takes a moment
        if narrator is not None:
            narrator.cancel()
            await asyncio.gather(narrator, return_exceptions=True)
        await stack.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        say("stopped")
    if signal.SIGINT in received[:1]:
        return 128 + signal.SIGINT
    return code


def run(args: argparse.Namespace) -> int:
    try:
        check(args)
        return asyncio.run(serve(args))
    except (
        ValueError,
        FileNotFoundError,
        TimeoutError,
        OSError,
        JoinError,
        NodeRegistrationError,
        StackStillRunning,
    ) as error:
        print(f"atomesh dev: {error}", file=sys.stderr)
        return 2
