"""Reading the cluster as a watcher does: LIST once (with its resourceVersion), then WATCH from it.

`KubeReader` speaks to the API server with the kubernetes client's own `Watch` under the kubeconfig's
identity; the caller (an informer) decides when to relist. A watch that expired answers `KubeError`
with status 410 (Gone), whichever way the server said it (an ERROR event or the HTTP status), so the
caller has one thing to handle. Blocking: run it in a thread.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import urllib3
from kubernetes.watch.watch import iter_resp_lines

from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import Resource

GONE = 410
POD_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch: ADDED, MODIFIED, DELETED or BOOKMARK, and the object."""

    type: str
    object: Body


def _error(exc: kubernetes.client.ApiException) -> KubeError:
    reason, message = "Error", str(exc.body or exc.reason or "")
    try:
        parsed = json.loads(exc.body or "{}")
        reason, message = str(parsed.get("reason") or reason), str(parsed.get("message") or message)
    except (TypeError, ValueError):
        pass
    return KubeError(exc.status or 0, reason, message)


def _answer(call: Callable[[], Any]) -> Body:
    """The JSON body of a request made by `call` (a kubernetes ApiClient call, not preloaded); KubeError
    for a refusal, an error status or a connection that failed."""
    try:
        response = call()
        response.read()
    except kubernetes.client.ApiException as exc:
        raise _error(exc) from exc
    except OSError as exc:
        raise KubeError(0, "ConnectionFailed", str(exc)) from exc
    data = response.data  # parsed from the bytes: a decoded copy of a large LIST would be megabytes more
    parsed: Body = json.loads(data or b"{}")
    if response.status >= 400:
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        raise KubeError(response.status, str(parsed.get("reason") or "Error"), str(parsed.get("message") or text))
    return parsed


def selector(labels: Mapping[str, str | None]) -> str:
    """A label selector of equalities; a value of None selects objects that have the label at all."""
    return ",".join(key if value is None else f"{key}={value}" for key, value in sorted(labels.items()))


def _path(resource: Resource, namespace: str | None) -> str:
    base = f"/apis/{resource.group}/{resource.version}" if resource.group else f"/api/{resource.version}"
    return f"{base}/namespaces/{namespace}/{resource.plural}" if namespace else f"{base}/{resource.plural}"


class KubeReader:
    """LIST and WATCH of one resource, cluster-wide (namespace None) or in one namespace."""

    def __init__(self, api_client: kubernetes.client.ApiClient, default_namespace: str = "default") -> None:
        self._api = api_client
        self.default_namespace = default_namespace
        self._responses: set[Any] = set()
        self._lock = threading.Lock()
        self._stopping = False

    @classmethod
    def from_kubeconfig(cls, path: str | None = None, context: str | None = None) -> KubeReader:
        """The given kubeconfig (else $KUBECONFIG/~/.kube/config) and its context's namespace; else, in a
        pod, its ServiceAccount and namespace."""
        try:
            api = kubernetes.config.new_client_from_config(config_file=path, context=context)  # type: ignore[no-untyped-call]
        except kubernetes.config.ConfigException:
            if path is not None or not Path(POD_NAMESPACE_FILE).is_file():
                raise
            kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
            return cls(kubernetes.client.ApiClient(), Path(POD_NAMESPACE_FILE).read_text().strip() or "default")
        namespace = "default"
        try:
            contexts, active = kubernetes.config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
            chosen = next((item for item in contexts if item["name"] == context), active) if context else active
            namespace = str((chosen or {}).get("context", {}).get("namespace") or "default")
        except (kubernetes.config.ConfigException, KeyError, TypeError):
            pass
        return cls(api, namespace)

    def close(self) -> None:
        self.stop()
        self._api.close()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        """End every watch in progress (their iterators return)."""
        self._stopping = True
        with self._lock:
            responses = list(self._responses)
        for response in responses:
            # A watch that ended meanwhile gave its connection back: nothing is left to unblock.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                response.shutdown()  # unblocks the thread reading it

    def _get(self, path: str, query: list[tuple[str, Any]], timeout: float | tuple[float, float] | None) -> Any:
        method, url, headers, body, post = self._api.param_serialize(
            method="GET", resource_path=path, query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )  # fmt: skip
        return self._api.call_api(
            method, url, header_params=headers, body=body, post_params=post, _request_timeout=timeout
        )

    def allowed(self, verb: str, resource: Resource, namespace: str) -> bool:
        """Whether this identity may `verb` `resource` in `namespace`: one SelfSubjectAccessReview, the
        question `kubectl auth can-i VERB RESOURCE -n NAMESPACE` asks. It creates nothing."""
        attributes = {"verb": verb, "group": resource.group, "resource": resource.plural, "namespace": namespace}
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        method, url, headers, body, post = self._api.param_serialize(
            method="POST", resource_path="/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review,
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            auth_settings=["BearerToken"],
        )  # fmt: skip
        parsed = _answer(
            lambda: self._api.call_api(
                method, url, header_params=headers, body=body, post_params=post, _request_timeout=30.0
            )
        )
        return bool((parsed.get("status") or {}).get("allowed"))

    def pages(
        self,
        resource: Resource,
        namespace: str | None,
        timeout: float = 60.0,
        *,
        labels: Mapping[str, str | None] | None = None,
        page_size: int = 0,
    ) -> Iterator[tuple[list[Body], str]]:
        """Every object (with `labels`), a page at a time as the server answers (one page when
        `page_size` is 0), each with the list's resourceVersion, to watch from: client-go's pager,
        without holding more than a page. Every page shows the objects as of the first page's
        resourceVersion. A page whose continue token expired raises KubeError 410 (Gone)."""
        query: list[tuple[str, Any]] = [("labelSelector", selector(labels))] if labels else []
        token = ""
        while True:
            paged = [*query, ("limit", str(page_size))] if page_size > 0 else list(query)
            if token:
                paged.append(("continue", token))
            parsed = _answer(functools.partial(self._get, _path(resource, namespace), paged, timeout))
            items: list[Body] = parsed.get("items") or []
            for item in items:  # a LIST leaves kind and apiVersion to the list itself
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
            meta = parsed.get("metadata") or {}
            yield items, str(meta.get("resourceVersion") or "")
            token = str(meta.get("continue") or "")
            if not token:
                return

    def list(
        self,
        resource: Resource,
        namespace: str | None,
        timeout: float = 60.0,
        *,
        labels: Mapping[str, str | None] | None = None,
        page_size: int = 0,
    ) -> tuple[list[Body], str]:
        """Every object (with `labels`) and the list's resourceVersion, to watch from. With `page_size`,
        in pages of that many (client-go's pager): the server holds no whole answer at once; a page
        whose continue token expired (410) restarts as one unpaged LIST, as client-go's pager does."""
        items: list[Body] = []
        version = ""
        try:
            for page, page_version in self.pages(resource, namespace, timeout, labels=labels, page_size=page_size):
                items.extend(page)
                version = page_version
        except KubeError as exc:
            if exc.status != GONE or not items or page_size <= 0:
                raise
            return self.list(resource, namespace, timeout, labels=labels)
        return items, version

    def pod_log(self, namespace: str, pod: str, container: str, tail_lines: int = 500) -> str:
        """The last lines a container of a pod wrote (`pods/log`); KubeError when there are none to read."""
        query = [("container", container), ("tailLines", str(tail_lines))]
        try:
            response = self._get(f"/api/v1/namespaces/{namespace}/pods/{pod}/log", query, 30.0)
            response.read()
        except kubernetes.client.ApiException as exc:
            raise _error(exc) from exc
        except OSError as exc:
            raise KubeError(0, "ConnectionFailed", str(exc)) from exc
        data = response.data.decode(errors="replace") if isinstance(response.data, bytes) else str(response.data or "")
        if response.status >= 400:
            try:
                parsed = json.loads(data or "{}")
            except ValueError:
                parsed = {}
            raise KubeError(response.status, str(parsed.get("reason") or "Error"), str(parsed.get("message") or data))
        return data

    def watch(
        self,
        resource: Resource,
        namespace: str | None,
        resource_version: str,
        timeout_seconds: int = 300,
        *,
        labels: Mapping[str, str | None] | None = None,
    ) -> Iterator[WatchEvent]:
        """Events after `resource_version` until the server ends the watch (or `stop`); KubeError 410 when
        `resource_version` is too old to watch from."""
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        if labels:
            query.append(("labelSelector", selector(labels)))
        if resource_version:
            query.append(("resourceVersion", resource_version))
        try:
            response = self._get(_path(resource, namespace), query, (10.0, timeout_seconds + 30.0)).response
        except kubernetes.client.ApiException as exc:
            raise _error(exc) from exc
        except OSError as exc:
            raise KubeError(0, "ConnectionFailed", str(exc)) from exc
        with self._lock:
            self._responses.add(response)
        try:
            if response.status >= 400:
                parsed = json.loads(response.data or b"{}")
                raise KubeError(response.status, str(parsed.get("reason") or "Error"), str(parsed.get("message") or ""))
            # The client's own reader of a chunked watch stream, one JSON object per line.
            for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = str(event.get("type") or ""), event.get("object") or {}
                if kind == "ERROR":
                    code = int(obj.get("code") or 0)
                    raise KubeError(code, str(obj.get("reason") or "Error"), str(obj.get("message") or ""))
                yield WatchEvent(kind, obj)
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            if not self._stopping:
                raise KubeError(0, "ConnectionFailed", str(exc)) from exc
        finally:
            with self._lock:
                self._responses.discard(response)
            response.release_conn()
