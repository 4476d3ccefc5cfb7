"""The development stack as a list of components started in order and stopped in reverse.

`atomesh dev` (in `atomesh.commands.dev`, which may also compose the operator) builds the
list; each component starts, reports its URL and stops cleanly. Only devstack pieces live
here: the Kubernetes API emulator (with the CRDs and the kubeconfig), the local kubelet and
the GitHub emulator (the model emulator's component is `atomesh.devstack.anthropic.component`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import yaml
from aiohttp import web

from atomesh.api.crd import build_crds
from atomesh.devstack import identity
from atomesh.devstack.github import REVIEWER, SAMPLE_REPO, Accounts, GitHubEmulator
from atomesh.devstack.github.context import API_PREFIX
from atomesh.devstack.kube import create_app, set_log_source
from atomesh.devstack.kube.access import AccessOptions
from atomesh.devstack.kube.pki import ClusterPKI
from atomesh.devstack.kube.server import kubeconfig
from atomesh.devstack.kubelet import Kubelet, KubeletConfig
from atomesh.devstack.kubelet.apiclient import ApiClient, ApiStatusError
from atomesh.devstack.kubelet.config import DEFAULT_NODE_NAME
from atomesh.devstack.kubelet.logsource import HttpLogSource
from atomesh.devstack.serving import LOOPBACK, start_site

CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
READY_TIMEOUT = 30.0


class Component(Protocol):
    """One piece of the stack. `start` returns the URL to print (None when it serves nothing)."""

    name: str

    async def start(self) -> str | None: ...

    async def stop(self) -> None: ...


class Stack:
    """Components started in order; a failure (or Ctrl-C) stops the ones already started."""

    def __init__(self, components: Sequence[Component], say: Callable[[str], None] = print) -> None:
        self.components = list(components)
        self._started: list[Component] = []
        self._say = say

    async def start(self) -> None:
        for component in self.components:
            self._started.append(component)  # stopped even if its start is interrupted
            url = await component.start()
            self._say(f"{component.name:<10} {url or 'running'}")

    async def stop(self) -> None:
        """In reverse start order. A component that fails to stop does not leave the ones before it
        running: each is stopped, then the first failure is raised."""
        failures: list[Exception] = []
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception as error:  # raised below, once the others are stopped
                failures.append(error)
        if failures:
            raise failures[0]


# -- the Kubernetes API emulator ---------------------------------------------------------------


def write_kubeconfig(path: Path, server: str, token: str, ca_data: str, namespace: str = "default") -> None:
    """Atomically, mode 0600: a reader never sees half a file (nor another user the token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    config = kubeconfig(server, namespace, token=token, ca_data=ca_data)
    partial.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    partial.chmod(0o600)
    os.replace(partial, path)


class StackStillRunning(RuntimeError):
    """The kubeconfig this stack would write belongs to a stack that still answers."""


async def refuse_live_kubeconfig(path: Path, within: float = 1.0) -> None:
    """Raise StackStillRunning when `path` names an API server that answers: overwriting it would leave
    whoever uses that stack (kubectl, a script) talking to a server that is not this one."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        config = yaml.safe_load(text) or {}
        server = str(config["clusters"][0]["cluster"]["server"])
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return  # no kubeconfig, or not one a stack wrote: nothing running to protect
    try:
        timeout = aiohttp.ClientTimeout(total=within)
        # Only whether it answers matters (no credentials are sent): its CA is not needed.
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{server}/version", ssl=False) as answer,
        ):
            alive = answer.status == 200
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return
    if alive:
        raise StackStillRunning(
            f"{path} belongs to a development stack still serving at {server}: stop it first, or give this "
            "stack its own file with --kubeconfig PATH"
        )


async def wait_until_serving(
    url: str, path: str = "/version", within: float = READY_TIMEOUT, tls: ssl.SSLContext | None = None
) -> None:
    """Poll `url + path` until it answers 200; TimeoutError naming the URL otherwise."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                timeout = aiohttp.ClientTimeout(total=5)
                async with session.get(url + path, timeout=timeout, ssl=tls if tls is not None else True) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url}{path} did not answer 200 within {within:.0f}s")
            await asyncio.sleep(0.05)


def load_crds(directory: Path | None) -> list[dict[str, Any]]:
    """The CRDs to install: from `directory` (*.yaml), or generated from the installed models,
    which `atomesh crds --check` keeps identical to the repository's crds/."""
    if directory is None:
        return list(build_crds().values())
    if not directory.is_dir():
        raise FileNotFoundError(f"--crds {directory}: not a directory of CRD YAML files")
    crds = []
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                crds.append(document)
    return crds


async def install_crds(api: ApiClient, crds: Sequence[dict[str, Any]], within: float = READY_TIMEOUT) -> None:
    """Create or replace each CRD (like `kubectl apply`), then wait until it is Established and its
    group/version is served (kopf reads discovery), on the emulator and on a real API server alike."""
    for crd in crds:
        name = crd["metadata"]["name"]
        try:
            await api.request("POST", CRD_PATH, crd)
        except ApiStatusError as exc:
            if exc.code != 409:
                raise
            existing = await api.request("GET", f"{CRD_PATH}/{name}")
            body = {**crd, "metadata": {**crd["metadata"], **_version_of(existing)}}
            await api.request("PUT", f"{CRD_PATH}/{name}", body)
    deadline = asyncio.get_running_loop().time() + within
    for crd in crds:
        group = crd["spec"]["group"]
        version = next(v["name"] for v in crd["spec"]["versions"] if v.get("served", True))
        name = crd["metadata"]["name"]
        while not (_established(await api.get(f"{CRD_PATH}/{name}")) and await api.get(f"/apis/{group}/{version}")):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"CRD {name} was not Established and served within {within:.0f}s")
            await asyncio.sleep(0.1)


def _established(crd: dict[str, Any] | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _version_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {"resourceVersion": obj["metadata"]["resourceVersion"]}


class KubeEndpoint:
    """The API server the rest of the stack uses: the emulator (`KubeApiComponent`) or a cluster joined
    through its kubeconfig (`atomesh.devstack.joined.JoinedCluster`). `app` is the emulator's own
    application (None when joined), where the local kubelet plugs in to serve `pods/log`."""

    name = "kube"
    url: str
    kubeconfig: Path
    token: str | None = None
    tls: ssl.SSLContext | None = None
    app: web.Application | None = None
    # The emulator's own identities for the local kubelet and the operator (None when joined: they
    # then use the kubeconfig's credentials).
    node_token: str | None = None
    operator_kubeconfig: Path | None = None

    async def start(self) -> str:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError


class KubeApiComponent(KubeEndpoint):
    """The API server emulator on `port` (0 = free port) with authentication and RBAC on, CRDs applied,
    the operator's ServiceAccount and RBAC from the chart installed (`identity`), and the kubeconfigs
    written once it answers (so a script waiting for the file can use it at once): the developer's
    (`system:masters`) at `kubeconfig`, the operator's beside it (`operator_kubeconfig`).
    `app_options` go to `create_app` (the node lifecycle controller's period and grace period).
    `node_name` is the local kubelet's Node: its credential is `system:node:<node_name>`, which the
    Node authorizer holds to that Node's own objects."""

    def __init__(
        self,
        *,
        port: int,
        kubeconfig: Path,
        state_dir: Path | None = None,
        crds: Sequence[dict[str, Any]] = (),
        node_name: str = DEFAULT_NODE_NAME,
        **app_options: Any,
    ) -> None:
        self._port = port
        self._node_name = node_name
        self.kubeconfig = kubeconfig
        self._state_dir = state_dir
        self._crds = crds
        self._app_options = app_options
        self._runner: web.AppRunner | None = None
        self.app = None
        self.url = ""

    async def start(self) -> str:
        await refuse_live_kubeconfig(self.kubeconfig)
        developer, node = identity.developer_token(), identity.node_token(self._node_name)
        access = AccessOptions(tokens={developer.token: developer, node.token: node})
        pki = ClusterPKI()
        self.app = app = await create_app(self._state_dir, access=access, **self._app_options)
        self._runner, port = await start_site(app, LOOPBACK, self._port, pki.server_context())
        self.url = f"https://{LOOPBACK}:{port}"
        # `token` is the developer's (system:masters), as for a joined cluster: what narration reads with.
        self.token, self.node_token, self.tls = developer.token, node.token, pki.client_context()
        await wait_until_serving(self.url, tls=self.tls)
        api = ApiClient(self.url, developer.token, self.tls)
        try:
            await install_crds(api, self._crds)
            operator_token = await identity.install_operator_identity(api)
            await identity.apply(api, identity.local_scheduler_binding(self._node_name))
        finally:
            await api.close()
        self.operator_kubeconfig = self.kubeconfig.with_name(self.kubeconfig.name + "-operator")
        write_kubeconfig(self.operator_kubeconfig, self.url, operator_token, pki.ca_data, identity.OPERATOR_NAMESPACE)
        write_kubeconfig(self.kubeconfig, self.url, developer.token, pki.ca_data)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class KubeletComponent:
    """The local kubelet, watching the API server of `kube` and serving its `pods/log`."""

    name = "kubelet"

    def __init__(self, kube: KubeEndpoint, root_dir: Path, **options: Any) -> None:
        self._kube = kube
        self._root_dir = root_dir
        self._options = options
        self._kubelet: Kubelet | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        kube = self._kube
        config = KubeletConfig(
            server=kube.url, token=kube.node_token or kube.token, tls=kube.tls, root_dir=self._root_dir, **self._options
        )
        kubelet = Kubelet(config)
        self._runner, port = await start_site(kubelet.log_app(), LOOPBACK, 0)
        url = f"http://{LOOPBACK}:{port}"
        self._kubelet = kubelet
        await kubelet.start(url)
        await kubelet.wait_synced()
        if self._kube.app is not None:
            set_log_source(self._kube.app, HttpLogSource(url))
        return url

    async def stop(self) -> None:
        if self._kube.app is not None:
            set_log_source(self._kube.app, None)
        if self._kubelet is not None:
            await self._kubelet.stop()
            self._kubelet = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class GitHubComponent:
    """The GitHub emulator with its default accounts (a bot that opens pull requests, a reviewer,
    an outsider) and `demo/sample-app`. Its users and pull requests live in memory, so its git
    repositories live in a fresh temporary directory, removed on stop: a restart never pairs
    old repositories with an empty store."""

    name = "github"

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._root: Path | None = None
        self._runner: web.AppRunner | None = None
        self.emulator: GitHubEmulator | None = None
        self.accounts: Accounts | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """What PyGithub and atomesh take as the API base (GitHub Enterprise's layout)."""
        return self.url + API_PREFIX

    def clone_url(self, repo: str) -> str:
        return f"{self.url}/{repo}.git"

    async def start(self) -> str:
        self._root = Path(tempfile.mkdtemp(prefix="atomesh-github-"))
        emulator = GitHubEmulator(self._root)
        self.accounts = emulator.add_default_accounts()
        await asyncio.to_thread(emulator.seed_sample_app)  # git writes: keep the loop free
        self.emulator = emulator
        self._runner, port = await start_site(await emulator.build_app(), LOOPBACK, self._port)
        self.url = f"http://{LOOPBACK}:{port}"
        return f"{self.url}  (pull requests of {SAMPLE_REPO} at {self.url}/{SAMPLE_REPO}, signed in as {REVIEWER})"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._root is not None:
            await asyncio.to_thread(shutil.rmtree, self._root, True)
            self._root = None
