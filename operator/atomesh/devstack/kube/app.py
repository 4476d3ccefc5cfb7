"""HTTP routing of the Kubernetes API emulator: paths and query parameters in, `Cluster` calls,
JSON (or a Status error) out. One catch-all route, because API paths are data-driven (CRDs)."""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import logging
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from atomesh.devstack.kube import (
    access_review,
    builtins,
    deletion,
    discovery,
    fields,
    logs,
    openapi,
    openapi_v2,
    patch,
    protobuf,
    table,
    watch,
)
from atomesh.devstack.kube.access import CURRENT_USER, AccessControl, AccessOptions, admit, served_here
from atomesh.devstack.kube.cluster import Cluster
from atomesh.devstack.kube.errors import ApiError, bad_request
from atomesh.devstack.kube.logproxy import node_source
from atomesh.devstack.kube.logs import LogSource
from atomesh.devstack.kube.nodelifecycle import NODE_MONITOR_GRACE_PERIOD, NODE_MONITOR_PERIOD, NodeLifecycle
from atomesh.devstack.kube.nodes import bind_pod
from atomesh.devstack.kube.persistence import SqlitePersistence
from atomesh.devstack.kube.resources import Registry, ResourceInfo
from atomesh.devstack.kube.selectors import combine, parse_field_selector, parse_label_selector
from atomesh.devstack.kube.store import Store, Stored, encode

Obj = dict[str, Any]
log = logging.getLogger(__name__)
JSON = "application/json"


class KubeAPI:
    """The server's state, reachable from the app as `app[KUBE_API]` (mutable after start-up)."""

    def __init__(self, cluster: Cluster, bookmark_interval: float, persistence: SqlitePersistence | None) -> None:
        self.cluster = cluster
        self.bookmark_interval = bookmark_interval
        self.persistence = persistence
        self.log_source: LogSource | None = None
        self.access: AccessControl | None = None  # None: every request is allowed (AlwaysAllow)

    @property
    def store(self) -> Store:
        return self.cluster.store

    @property
    def registry(self) -> Registry:
        return self.cluster.registry


KUBE_API = web.AppKey("kube_api", KubeAPI)


def set_log_source(app: web.Application, source: LogSource | None) -> None:
    """Register who serves `pods/log` (the local kubelet); safe after the app has started."""
    app[KUBE_API].log_source = source


def _respond(body: Obj | bytes, status: int = 200) -> web.Response:
    data = body if isinstance(body, bytes) else encode(body)
    return web.Response(body=data, status=status, content_type=JSON)


def _written(body: Obj, status: int, check: fields.FieldCheck) -> web.Response:
    """A write's response, with one `Warning` header per field-validation warning."""
    response = _respond(body, status)
    for message in check.warnings:
        response.headers.add("Warning", fields.warning_header(message))
    return response


def _field_check(query: Any, options_kind: str, operation: str, duplicates: list[str]) -> fields.FieldCheck:
    return fields.FieldCheck(fields.directive(query.get("fieldValidation"), options_kind), operation, duplicates)


def _flag(query: Any, name: str) -> bool:
    return str(query.get(name, "")).lower() in watch.TRUE


PROTOBUF = "application/vnd.kubernetes.protobuf"


def _protobuf_body(raw: bytes) -> Any:
    """kubectl's generators (create namespace/secret/configmap/serviceaccount) send protobuf; client-go
    falls back to JSON after a 415 only for CBOR, so decode the kinds they create."""
    if not raw:
        return None
    try:
        return protobuf.decode(raw)
    except protobuf.UnsupportedKind as exc:
        raise ApiError(415, str(exc), kind=exc.kind) from exc
    except protobuf.ProtobufError as exc:
        raise bad_request(f"the request body is not a valid Kubernetes protobuf object: {exc}") from exc


async def _read_body(request: web.Request) -> Any:
    body, _ = await _read_body_checked(request)
    return body


async def _read_body_checked(request: web.Request) -> tuple[Any, list[str]]:
    """The JSON (or, for apply patches, YAML) body and the paths of its duplicated fields."""
    raw = await request.read()
    if request.content_type == PROTOBUF:  # aiohttp parses Content-Type up to ';'
        return _protobuf_body(raw), []
    if not raw.strip():
        return None, []
    try:
        return fields.loads(raw)
    except ValueError as exc:
        if request.content_type == patch.APPLY:
            try:
                return yaml.safe_load(raw), []
            except yaml.YAMLError:
                pass
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc


@web.middleware
async def status_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure is a `Status` object: kopf ignores any other error body."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as exc:
        return _respond(exc.status(), exc.code)
    except web.HTTPException:
        raise
    except ConnectionResetError:  # the client went away mid-request (e.g. a killed operator)
        return web.Response(status=499)
    except Exception as exc:
        log.exception("internal error serving %s %s", request.method, request.path)
        return _respond(ApiError(500, f"internal error: {exc}").status(), 500)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Access control (authentication, impersonation, authorisation), then the request itself."""
    api = request.app[KUBE_API]
    attributes = admit(api.access, request)
    token = CURRENT_USER.set(attributes.user if api.access is not None else None)
    code = 500
    try:
        answer = await served_here(api.access, attributes, request.method, lambda: _read_body(request))
        response = _respond(answer, 201) if answer is not None else await _route(request, api)
        code = response.status
    except ApiError as exc:
        code = exc.code
        raise
    finally:
        CURRENT_USER.reset(token)
        if api.access is not None:
            api.access.after_request(request.method, attributes, code)
    return response


async def _route(request: web.Request, api: KubeAPI) -> web.StreamResponse:
    parts = [p for p in request.path.split("/") if p]
    if not parts:
        return _respond({"paths": ["/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version", "/healthz"]})
    head = parts[0]
    if head == "version":
        return _respond(discovery.version())
    if head in ("healthz", "livez", "readyz"):
        return web.Response(text="ok")
    if head == "openapi":
        if parts[1:] == ["v2"]:
            body, media_type = openapi_v2.serve(api.registry, request.headers.get("Accept", ""))
            return web.Response(body=body, content_type=media_type)
        return _respond(openapi.route(api.registry, parts[1:]))
    if head == "api":
        if len(parts) == 1:
            return _respond(discovery.core_versions(request.host))
        return await _group_version(request, api, "", parts[1], parts[2:])
    if head == "apis":
        if len(parts) == 1:
            return _respond(discovery.group_list(api.registry))
        if len(parts) == 2:
            group = discovery.api_group(api.registry, parts[1])
            if group is None:
                raise ApiError(404, "the server could not find the requested resource")
            return _respond(group)
        return await _group_version(request, api, parts[1], parts[2], parts[3:])
    raise ApiError(404, "the server could not find the requested resource")


async def _group_version(
    request: web.Request, api: KubeAPI, group: str, version: str, rest: list[str]
) -> web.StreamResponse:
    if not rest:
        resources = discovery.resource_list(api.registry, group, version)
        if resources is None:
            raise ApiError(404, "the server could not find the requested resource")
        return _respond(resources)
    namespace: str | None = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise ApiError(404, "the server could not find the requested resource")
    info = api.registry.get(group, version, rest[0])
    if info is None or not info.served:
        raise ApiError(404, "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if (namespace is not None and not info.namespaced) or (sub is not None and sub not in info.subresources):
        raise ApiError(404, "the server could not find the requested resource")
    if info.namespaced and namespace is None and name is not None:
        raise ApiError(404, "the server could not find the requested resource")
    return await _resource(request, api, info, namespace, name, sub)


async def _resource(
    request: web.Request, api: KubeAPI, info: ResourceInfo, namespace: str | None, name: str | None, sub: str | None
) -> web.StreamResponse:
    cluster, query, method = api.cluster, request.query, request.method
    ns = namespace or ""
    if name is None:
        if method == "GET":
            return await _list_or_watch(request, api, info, namespace)
        if method == "POST":
            if info.namespaced and namespace is None:
                raise ApiError(
                    405, f"POST to a namespaced resource needs a namespace: /namespaces/NAMESPACE/{info.plural}"
                )
            body, duplicates = await _read_body_checked(request)
            check = _field_check(query, "CreateOptions", fields.CREATE, duplicates)
            if _flag(query, "dryRun") or query.get("dryRun") == "All":
                return _written(cluster._new_object(info, ns, body, check), 201, check)
            return _written(cluster.create(info, ns, body, check), 201, check)
        if method == "DELETE":
            return _delete_collection(api, info, namespace, query, await _read_body(request))
        raise ApiError(405, f"the server does not allow the method {method} on {info.plural}")
    if method == "POST" and sub == "binding":
        return _respond(bind_pod(cluster, info, ns, name, await _read_body(request)), 201)
    if method == "GET":
        if sub == "log":
            return await _logs(request, api, info, ns, name)
        obj = cluster.get(info, ns, name)
        if table.wants_table(request.headers.get("Accept", "")):
            return _respond(table.table(info, [obj.obj], obj.obj["metadata"]["resourceVersion"], table.options(query)))
        return _respond(_view(obj.raw, obj.obj, info))
    if method == "PUT":
        body, duplicates = await _read_body_checked(request)
        check = _field_check(query, "UpdateOptions", fields.UPDATE, duplicates)
        if sub == "finalize":
            current = cluster.get(info, ns, name).obj
            spec_finalizers = ((body or {}).get("spec") or {}).get("finalizers")
            body = {**current, "spec": {**current.get("spec", {}), "finalizers": spec_finalizers or []}}
            sub = None
        return _written(cluster.replace(info, ns, name, body, sub, check), 200, check)
    if method == "PATCH":
        content_type = request.content_type
        if content_type not in patch.PATCH_TYPES:
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                + ", ".join(patch.PATCH_TYPES),
            )
        if content_type == patch.APPLY and not query.get("fieldManager"):
            raise ApiError(
                422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
            )
        body, duplicates = await _read_body_checked(request)
        operation = fields.APPLY if content_type == patch.APPLY else fields.PATCH
        check = _field_check(query, "PatchOptions", operation, duplicates)
        patched, created = cluster.patch(
            info, ns, name, content_type, body, sub, force=_flag(query, "force"), check=check
        )
        return _written(patched, 201 if created else 200, check)
    if method == "DELETE":
        options = await _read_body(request) or {}
        for key in ("propagationPolicy", "gracePeriodSeconds"):
            if key in query:
                options[key] = int(query[key]) if key == "gracePeriodSeconds" else query[key]
        if query.get("orphanDependents"):
            options["orphanDependents"] = _flag(query, "orphanDependents")
        deletion.check(info, cluster.get(info, ns, name).obj)
        deleted = cluster.delete(info, ns, name, options)
        return _respond(*deletion.response(info, deleted, deletion.gone(api.store, info, deleted), options))
    raise ApiError(405, f"the server does not allow the method {method} on {info.plural}")


def _view(raw: bytes, obj: Obj, info: ResourceInfo) -> bytes:
    if obj.get("apiVersion") == info.group_version:
        return raw
    return encode({**obj, "apiVersion": info.group_version})


def _predicate(info: ResourceInfo, query: Any) -> Any:
    return combine(
        parse_label_selector(query.get("labelSelector")),
        parse_field_selector(query.get("fieldSelector"), info.field_getters),
    )


async def _list_or_watch(
    request: web.Request, api: KubeAPI, info: ResourceInfo, namespace: str | None
) -> web.StreamResponse:
    query = request.query
    matches = _predicate(info, query)
    wants_table = table.wants_table(request.headers.get("Accept", ""))
    if _flag(query, "watch"):
        options = watch.WatchOptions(query, table.options(query) if wants_table else None)
        return await watch.serve(request, api.store, info, namespace, matches, options, api.bookmark_interval)
    rv = str(api.store.rv)
    start = _continue_from(query.get("continue"))
    stored: list[Stored]
    if start is None:
        stored = list(api.store.iter(info.gr, namespace))
    else:  # every page of a paged LIST shows the objects as they were at its first page's resourceVersion
        rv, start_key = start
        snapshot = api.store.snapshot(info.gr, namespace, int(rv))
        if snapshot is None:
            raise _continue_expired(str(api.store.rv), start_key)
        stored = snapshot[bisect.bisect_right(snapshot, start_key, key=lambda s: _key(s.obj)) :]
    selecting = query.get("labelSelector") or query.get("fieldSelector")
    selected = [s for s in stored if matches(s.obj)] if selecting else stored
    meta: Obj = {"resourceVersion": rv}
    limit = int(query.get("limit") or 0)
    if limit > 0 and len(selected) > limit:
        last = _key(selected[limit - 1].obj)
        meta["continue"] = base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": last}).encode()).decode()
        meta["remainingItemCount"] = len(selected) - limit
        selected = selected[:limit]
    if wants_table:
        return _respond(table.table(info, [s.obj for s in selected], rv, table.options(query)) | {"metadata": meta})
    head = encode({"kind": info.list_kind, "apiVersion": info.group_version, "metadata": meta})
    items = b",".join(_view(s.raw, s.obj, info) for s in selected)
    return _respond(head[:-1] + b',"items":[' + items + b"]}")


def _key(obj: Obj) -> list[str]:
    return [obj["metadata"].get("namespace", ""), obj["metadata"]["name"]]


def _continue_from(token: str | None) -> tuple[str, list[str]] | None:
    """The (resourceVersion, last key) a continue token carries."""
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, start = str(decoded["rv"]), [str(s) for s in decoded["start"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request(f"continue key is not valid: {token!r}") from exc
    if not rv.isdigit():
        raise bad_request(f"continue key is not valid: {token!r}")
    return rv, start


def _continue_expired(current_rv: str, start: list[str]) -> ApiError:
    """410 Expired, as the etcd3 store answers a continue whose revision was compacted; its Status carries
    the token that continues at the current revision (an inconsistent list, the caller's choice)."""
    inconsistent = base64.urlsafe_b64encode(json.dumps({"rv": current_rv, "start": start}).encode()).decode()
    error = ApiError(
        410,
        "The provided continue parameter is too old to display a consistent list result. You can start a new "
        "list without the continue parameter, or use the continue token in this response to retrieve the "
        "remainder of the results. Continuing with the provided token results in an inconsistent list - "
        "objects that were created, modified, or deleted between the time the first chunk was returned and "
        "now may show up in the list.",
        "Expired",
    )
    error.list_continue = inconsistent
    return error


def _delete_collection(api: KubeAPI, info: ResourceInfo, namespace: str | None, query: Any, body: Any) -> web.Response:
    matches = _predicate(info, query)
    options = body if isinstance(body, dict) else {}
    deleted = []
    for stored in list(api.store.iter(info.gr, namespace)):
        if matches(stored.obj):
            meta = stored.obj["metadata"]
            deleted.append(api.cluster.delete(info, meta.get("namespace", ""), meta["name"], dict(options)))
    return _respond(
        {
            "kind": info.list_kind,
            "apiVersion": info.group_version,
            "metadata": {"resourceVersion": str(api.store.rv)},
            "items": deleted,
        }
    )


async def _logs(
    request: web.Request, api: KubeAPI, info: ResourceInfo, namespace: str, name: str
) -> web.StreamResponse:
    pod = api.cluster.get(info, namespace, name).obj
    container = logs.choose_container(pod, request.query.get("container"))
    tail = request.query.get("tailLines")
    source = api.log_source or node_source(api.store, pod)  # else the kubelet of the pod's Node
    return await logs.serve(
        request, source, pod, container, _flag(request.query, "follow"), int(tail) if tail else None
    )


async def create_app(
    state_dir: Path | None = None,
    *,
    history_limit: int = 10_000,
    bookmark_interval: float = 15.0,
    node_monitor_period: float = NODE_MONITOR_PERIOD,
    node_monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD,
    access: AccessOptions | None = None,
) -> web.Application:
    """The API server as an aiohttp application; `state_dir` keeps state in SQLite across restarts.
    A node lifecycle controller runs beside it, as kube-controller-manager's does (`nodelifecycle`)."""
    registry = Registry()
    for info in [*builtins.builtin_resources(), *access_review.resources()]:
        registry.add(info)
    persistence = SqlitePersistence(state_dir) if state_dir is not None else None
    store = Store(history_limit=history_limit)
    cluster = Cluster(store, registry)
    restored = False
    if persistence is not None:
        store.rv, objects = persistence.load()
        for gr, obj in objects:
            store.load(gr, obj)
            if gr == builtins.CRDS:
                cluster._register_crd(obj)
            restored = True
        store.persistence = persistence
    if not restored:
        for name in builtins.INITIAL_NAMESPACES:
            if store.get(builtins.NAMESPACES, "", name) is None:
                cluster.create(registry.get("", "v1", "namespaces"), "", {"metadata": {"name": name}})  # type: ignore[arg-type]
    app = web.Application(middlewares=[status_errors], client_max_size=64 * 1024 * 1024)
    app[KUBE_API] = KubeAPI(cluster, bookmark_interval, persistence)
    if access is not None:
        control = AccessControl(cluster, access)
        control.bootstrap()
        app[KUBE_API].access = control
    app.router.add_route("*", "/{tail:.*}", dispatch)

    async def close(_app: web.Application) -> None:
        if persistence is not None:
            persistence.close()

    app.on_cleanup.append(close)
    lifecycle = NodeLifecycle(cluster, period=node_monitor_period, grace_period=node_monitor_grace_period)
    app.cleanup_ctx.append(_background(lifecycle.run))
    return app


def _background(run: Any) -> Any:
    """A task for the app's lifetime (aiohttp cleanup context)."""

    async def context(_app: web.Application) -> Any:
        task = asyncio.get_running_loop().create_task(run())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return context
