"""`atomesh console`: the web console on this machine, with the user's kubeconfig.

Everything it shows and does goes through the Kubernetes API under the kubeconfig's identity, so RBAC
decides what each person sees and may do, as with kubectl. It listens on loopback by default: whoever
reaches the port acts with the user's credentials.

In a pod (the chart's `console.enabled`) it reads with the pod's ServiceAccount when no kubeconfig is
given, listens on `--address 0.0.0.0` behind the cluster's auth proxy, and runs `--read-only`: no action
is shown, and every POST answers 403, so reaching the Service never lends anyone the account's rights.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import signal
import sys
from pathlib import Path

import kubernetes
from aiohttp import web

from atomesh.console.cache import ClusterCache
from atomesh.console.server import create_app
from atomesh.kube.client import RestKube
from atomesh.kube.watch import KubeReader

DEFAULT_PORT = 8470
LOOPBACK = "127.0.0.1"
SYNC_TIMEOUT = 30.0


class ConsoleComponent:
    """The console as a component of a process: `start` lists and watches the cluster, then serves; it
    returns the console's URL. Used by `atomesh console` and by `atomesh dev`."""

    name = "console"

    def __init__(
        self,
        kubeconfig: Path | None,
        context: str | None = None,
        namespaces: list[str] | None = None,
        host: str = LOOPBACK,
        port: int = DEFAULT_PORT,
        read_only: bool = False,
    ) -> None:
        self._kubeconfig = kubeconfig
        self._context = context
        self._namespaces = namespaces
        self._host = host
        self._port = port
        self._read_only = read_only
        self._reader: KubeReader | None = None
        self._writer: RestKube | None = None
        self.cache: ClusterCache | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        path = str(self._kubeconfig) if self._kubeconfig else None
        self._reader = KubeReader.from_kubeconfig(path, self._context)
        self._writer = RestKube.from_kubeconfig(path, self._context)
        self.cache = ClusterCache(self._reader, self._namespaces)
        self.cache.start()
        # Serve even if the cluster is slow to answer: the footer shows what the cache could not list.
        await asyncio.to_thread(self.cache.wait_synced, SYNC_TIMEOUT)
        app = create_app(self.cache, self._writer, self._reader, user=local_user(), read_only=self._read_only)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # aiohttp exposes the bound port only here
        port = int(sockets[0].getsockname()[1]) if sockets else self._port
        self.url = f"http://{self._host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.cache is not None:
            await asyncio.to_thread(self.cache.stop)
        if self._reader is not None:
            self._reader.close()
        if self._writer is not None:
            self._writer.close()


def local_user() -> str:
    """Who started the console, recorded as the source of the runs it starts; a pod's user may have no name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NAMESPACE",
        help="watch only this namespace (repeatable; default: the namespaces your RBAC lets you read)",
    )
    parser.add_argument(
        "--address", default=LOOPBACK, help="address to listen on (default: %(default)s; 0.0.0.0 in a pod)"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="show, never act: hide the actions and answer 403 to every POST (for a console shared in-cluster)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0: a free port)")


async def serve(args: argparse.Namespace) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    console = ConsoleComponent(
        args.kubeconfig, args.context, args.namespaces, args.address, args.port, read_only=args.read_only
    )
    try:
        url = await console.start()
        mode = "read-only, " if args.read_only else ""
        print(f"atomesh console: {url} ({mode}Ctrl-C stops it)", flush=True)
        await stopping.wait()
    finally:
        await console.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(serve(args))
    except (kubernetes.config.ConfigException, OSError) as exc:
        print(f"atomesh console: {exc}", file=sys.stderr)
        return 2
