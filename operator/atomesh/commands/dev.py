"""`atomesh dev`: the development stack in the foreground until Ctrl-C or SIGTERM.

Components start in order, each printing its URL, and stop in reverse:
``kube`` (API server emulator, CRDs, kubeconfig) then ``kubelet`` (runs runner pods as local
processes). Later components — the operator (`atomesh.controller`), the GitHub emulator and
the model emulator — are added to `COMPONENTS` with a builder; a ``--demo`` flag would add a
step after `Stack.start` (see `after_start`) that applies sample agents.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from atomesh.devstack.kubelet import DEFAULT_IMAGE_PATTERN
from atomesh.devstack.stack import Component, KubeApiComponent, KubeletComponent, Stack, load_crds

DEFAULT_KUBECONFIG = Path(".atomesh") / "kubeconfig"
DEFAULT_KUBELET_DIR = Path(".atomesh") / "kubelet"

# Built components so far, by name, for builders of later components (kubelet needs kube's URL).
Built = dict[str, Component]
Builder = Callable[[argparse.Namespace, Built], Component]


def build_kube(args: argparse.Namespace, built: Built) -> Component:
    return KubeApiComponent(port=args.port, kubeconfig=args.kubeconfig, state_dir=args.state, crds=load_crds(args.crds))


def build_kubelet(args: argparse.Namespace, built: Built) -> Component:
    kube = built["kube"]
    if not isinstance(kube, KubeApiComponent):
        raise TypeError("the kubelet needs the kube component")
    return KubeletComponent(kube, args.kubelet_dir, image_pattern=args.image_pattern)


# In start order. Later: ("github", ...), ("model", ...), ("operator", ...).
COMPONENTS: list[tuple[str, Builder]] = [("kube", build_kube), ("kubelet", build_kubelet)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = [name for name, _ in COMPONENTS]
    parser.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default 0: a free port)")
    parser.add_argument("--state", type=Path, default=None, metavar="DIR", help="keep API objects in DIR across runs")
    parser.add_argument(
        "--kubeconfig", type=Path, default=DEFAULT_KUBECONFIG, help=f"where to write it (default {DEFAULT_KUBECONFIG})"
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


def selected(args: argparse.Namespace) -> list[tuple[str, Builder]]:
    names = [name for name, _ in COMPONENTS]
    if args.only is None:
        return list(COMPONENTS)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in names]
    if unknown or not wanted:
        raise ValueError(f"--only {args.only}: choose from {', '.join(names)}")
    return [(name, builder) for name, builder in COMPONENTS if name in wanted]


def usage(args: argparse.Namespace) -> str:
    return (
        "\nThe stack is up. In another shell:\n"
        f"  export KUBECONFIG={args.kubeconfig.resolve()}\n"
        "  kubectl get agents\n"
        "Stop with Ctrl-C."
    )


async def after_start(args: argparse.Namespace, built: Built) -> None:
    """Extension point: steps once every component runs (a future --demo applies samples here)."""


async def serve(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    built: Built = {}
    components = []
    for name, builder in selected(args):
        if name == "kubelet" and "kube" not in built:
            raise ValueError("--only kubelet needs kube too: use --only kube,kubelet")
        built[name] = builder(args, built)
        components.append(built[name])
    stack = Stack(components, say=lambda line: print(line, flush=True))
    try:
        start = asyncio.ensure_future(stack.start())
        stop_wait = asyncio.ensure_future(stopping.wait())
        done, _ = await asyncio.wait({start, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if start in done:
            start.result()
            await after_start(args, built)
            print(usage(args), flush=True)
            await stop_wait
        else:
            start.cancel()
            await asyncio.gather(start, return_exceptions=True)
        stop_wait.cancel()
    finally:
        print("stopping", flush=True)
        await stack.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(serve(args))
    except (ValueError, FileNotFoundError, TimeoutError, OSError) as error:
        print(f"atomesh dev: {error}", file=sys.stderr)
        return 2
