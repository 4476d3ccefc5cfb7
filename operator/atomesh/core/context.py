"""Context sources: a Context's status from what its source resolved to, and the contexts an Agent uses.

Pure. Invariants:

- A Context is Ready only with a `status.version` that names an immutable version: a git commit, or a
  ConfigMap's uid, resourceVersion and the sha256 of its content (so a run can check what it mounts).
- An `oci` source is never Ready here: it is refused with SourceUnsupported (Stalled), naming what to use.
- A ConfigMap over `spec.maxBytes` is refused with ContextTooLarge (Stalled) and keeps no version.
- An Agent's selection (`spec.context`: names and a label selector) is the union, ordered by name, and
  resolves only when every selected Context is Ready; the versions go into the Agent's status, and their
  digest into its revision, so a context update is a new Agent revision.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.common import redact_userinfo
from atomesh.api.context import AgentContext, Context, ContextSpec, ContextStatus, ContextVersion
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.hashing import SHORT
from atomesh.core.references import SHARED_CONFIGMAP, reference_refusal

OCI_UNSUPPORTED = (
    "spec.oci is not supported by this operator: it cannot pull OCI artifacts (no registry client is "
    "configured); publish the context to git (spec.git) or a ConfigMap (spec.configMap) instead"
)


def content_digest(files: Mapping[str, bytes]) -> str:
    """`sha256:<hex>` over the files sorted by name, each framed by its name and length (no ambiguity)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return "sha256:" + digest.hexdigest()


def configmap_files(configmap: Mapping[str, Any]) -> dict[str, bytes]:
    """A ConfigMap's keys as the files its volume holds: `data` as UTF-8, `binaryData` decoded."""
    files = {key: str(value).encode() for key, value in (configmap.get("data") or {}).items()}
    for key, value in (configmap.get("binaryData") or {}).items():
        files[key] = base64.b64decode(value)
    return files


@dataclass(frozen=True)
class SourceObservation:
    """What reading a Context's source found: a commit (git), a ConfigMap body, or an error."""

    commit: str | None = None
    configmap: Mapping[str, Any] | None = None
    error: str | None = None


def _failed(
    current: ContextStatus, generation: int | None, reason: str, message: str, now: str, *, stalled: bool
) -> ContextStatus:
    abnormal = c.STALLED if stalled else c.RECONCILING
    desired = [condition(c.READY, c.FALSE, reason, message, generation)]
    conds = merge_conditions(
        current.conditions, [*desired, condition(abnormal, c.TRUE, reason, message, generation)], now
    )
    return ContextStatus(observed_generation=generation, conditions=conds)


def plan_context_status(
    current: ContextStatus,
    *,
    name: str,
    generation: int | None,
    spec: ContextSpec,
    observed: SourceObservation,
    now: str,
) -> ContextStatus:
    """The next status of Context `name` (a failure drops the version: no Agent may use it)."""
    if spec.oci is not None:
        return _failed(current, generation, c.SOURCE_UNSUPPORTED, OCI_UNSUPPORTED, now, stalled=True)
    if spec.git is not None:
        git = spec.git
        if observed.commit is None:
            error = observed.error or "not resolved yet"
            message = redact_userinfo(f"resolving {git.ref} in {git.repo} failed: {error}; retrying")
            return _failed(current, generation, c.REF_RESOLUTION_FAILED, message, now, stalled=False)
        version = ContextVersion(
            name=name,
            kind="git",
            revision=f"{git.ref}@sha1:{observed.commit}",
            repo=git.repo,
            path=git.path,
            commit=observed.commit,
            max_bytes=spec.max_bytes,
        )
        size = None
    else:
        assert spec.config_map is not None
        configmap = observed.configmap
        if configmap is None:
            message = f"ConfigMap {spec.config_map.name!r} (spec.configMap.name) does not exist in this namespace"
            return _failed(current, generation, c.CONFIG_MAP_NOT_FOUND, message, now, stalled=False)
        files = configmap_files(configmap)
        size = sum(len(data) for data in files.values())
        if size > spec.max_bytes:
            message = (
                f"ConfigMap {spec.config_map.name!r} holds {size} bytes, more than spec.maxBytes={spec.max_bytes}; "
                "split it into several Contexts or raise spec.maxBytes"
            )
            return _failed(current, generation, c.CONTEXT_TOO_LARGE, message, now, stalled=True)
        meta = configmap.get("metadata") or {}
        digest = content_digest(files)
        version = ContextVersion(
            name=name,
            kind="configMap",
            revision=f"{spec.config_map.name}@{digest}",
            config_map=spec.config_map.name,
            uid=meta.get("uid"),
            resource_version=meta.get("resourceVersion"),
            digest=digest,
            files=sorted(files),
            max_bytes=spec.max_bytes,
        )
    ready = condition(c.READY, c.TRUE, c.RECONCILED, f"resolved to {version.revision}", generation)
    conds = merge_conditions(current.conditions, [ready], now)
    return ContextStatus(
        observed_generation=generation, conditions=conds, revision=version.revision, version=version, size_bytes=size
    )


@dataclass(frozen=True)
class ContextSelection:
    """The versions an Agent's `spec.context` resolved to, or why it did not resolve: `problems` wait for a
    Context (missing, not Ready), `refused` are references another namespace does not allow."""

    versions: tuple[ContextVersion, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
    refused: tuple[str, ...] = field(default_factory=tuple)

    @property
    def error(self) -> str | None:
        return "; ".join(self.problems) or None


def selects(selection: AgentContext, context: Context) -> bool:
    """Whether `selection` picks `context` by name or by its labels."""
    if context.metadata.name in selection.names:
        return True
    selector = selection.selector
    if selector is None or not selector.match_labels:
        return False
    labels = context.metadata.labels
    return all(labels.get(key) == value for key, value in selector.match_labels.items())


def _pinned(context: Context, label: str, problems: list[str]) -> ContextVersion | None:
    """The Context's version when it is Ready; otherwise None and why, in `problems`."""
    status = context.status
    ready = find(status.conditions, c.READY) if status else None
    if status is None or status.version is None or ready is None or ready.status != c.TRUE:
        detail = f": {ready.message}" if ready is not None and ready.message else ""
        problems.append(f"Context {label!r} is not Ready{detail}")
        return None
    return status.version


def select_contexts(
    selection: AgentContext | None,
    contexts: Iterable[Context],
    *,
    namespace: str = "",
    shared: Mapping[tuple[str, str], Context | str | None] | None = None,
    namespace_labels: Mapping[str, str] | None = None,
) -> ContextSelection:
    """The pinned versions of the contexts `selection` picks from the namespace's `contexts`, and of the
    other namespaces' Contexts in `spec.context.refs` that allow `namespace` (whose labels are
    `namespace_labels`; None: unknown). `shared` maps (namespace, name) of each such ref to the Context,
    None when it does not exist, or why it could not be read."""
    if selection is None:
        return ContextSelection()
    local_refs = [ref.name for ref in selection.refs if ref.namespace == namespace]
    names = [*selection.names, *local_refs]
    by_name = {context.metadata.name: context for context in contexts}
    picked = sorted(name for name, context in by_name.items() if selects(selection, context) or name in local_refs)
    problems = [
        f"Context {name!r} (spec.context.names) does not exist" for name in dict.fromkeys(names) if name not in by_name
    ]
    versions: list[ContextVersion] = []
    for name in picked:
        version = _pinned(by_name[name], name, problems)
        if version is not None:
            versions.append(version)
    refused: list[str] = []
    remote = sorted({(ref.namespace, ref.name) for ref in selection.refs if ref.namespace != namespace})
    for target_namespace, name in remote:
        label = f"{target_namespace}/{name}"
        found = (shared or {}).get((target_namespace, name))
        if not isinstance(found, Context):
            problems.append(f"Context {label!r} (spec.context.refs) {found or 'does not exist'}")
            continue
        refusal = reference_refusal(
            found.spec.allowed_namespaces,
            target=f"Context {label}",
            target_namespace=target_namespace,
            from_namespace=namespace,
            from_labels=namespace_labels,
        )
        if refusal is None and found.spec.config_map is not None:
            refusal = f"Context {label} is a ConfigMap context: {SHARED_CONFIGMAP}"
        if refusal is not None:
            refused.append(refusal)
            continue
        version = _pinned(found, label, problems)
        if version is not None:
            versions.append(version.model_copy(update={"namespace": target_namespace}))
    return ContextSelection(tuple(versions), tuple(problems), tuple(refused))


def contexts_digest(versions: Iterable[ContextVersion]) -> str:
    """A short digest of the pinned versions: what makes a context update a new Agent revision."""
    text = "\n".join(f"{version.key}={version.revision}" for version in versions)
    return hashlib.sha256(text.encode()).hexdigest()[:SHORT]


def with_contexts(revision: str, versions: Iterable[ContextVersion]) -> str:
    """The Agent revision with its contexts: `<revision>+context@<digest>`, unchanged without contexts."""
    pinned = list(versions)
    return f"{revision}+context@{contexts_digest(pinned)}" if pinned else revision


CONTEXT_VOLUME = "context"


def context_volume(versions: Iterable[ContextVersion]) -> dict[str, Any] | None:
    """One projected volume holding every ConfigMap context as `<context name>/<key>` (None without any).

    Items name each pinned key, so contexts never collide; the runner checks the pinned digest of what it reads.
    """
    sources = [
        {
            "configMap": {
                "name": version.config_map,
                "items": [{"key": key, "path": f"{version.name}/{key}"} for key in version.files],
            }
        }
        for version in versions
        if version.kind == "configMap" and version.config_map
    ]
    return {"name": CONTEXT_VOLUME, "projected": {"sources": sources}} if sources else None
