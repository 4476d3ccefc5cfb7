"""The Context kind: organisational knowledge (handbooks, policies, glossaries) that Agents read.

A Context names one source — a folder in git, a ConfigMap, or an OCI artifact — and the operator
resolves it to an immutable version in `status.version` (a commit; a ConfigMap's uid, resourceVersion
and content digest). Agents select contexts in `spec.context`; a run pins the versions it used.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from atomesh.api.common import Condition, ObjectMeta, SpecModel, StatusModel
from atomesh.api.references import AllowedNamespaces, ContextReference
from atomesh.api.rules import EXACTLY_ONE_CONTEXT_SOURCE

# Text handed to a model: 256 KiB by default, at most 1 MiB (a ConfigMap's own ceiling).
DEFAULT_MAX_BYTES = 262_144
MAX_BYTES_CEILING = 1_048_576
ContextSourceKind = Literal["git", "configMap", "oci"]


class GitContextSource(SpecModel):
    """A folder of a git repository; resolved to the commit `ref` points at."""

    repo: str = Field(min_length=1, description="Repository as owner/name on the forge, or a git URL.")
    ref: str = Field(default="main", min_length=1, description="Branch, tag or commit to resolve.")
    path: str = Field(default=".", min_length=1, max_length=512, description="Folder in the repository to read.")


class ConfigMapContextSource(SpecModel):
    """A ConfigMap in the Context's namespace: each key is one document."""

    name: str = Field(min_length=1, max_length=253, description="Name of the ConfigMap.")


class OCIContextSource(SpecModel):
    """An OCI artifact (registry/repository:tag or @sha256:digest)."""

    ref: str = Field(min_length=1, description="Artifact reference, e.g. ghcr.io/acme/handbook:v3.")


class ContextSpec(SpecModel):
    """Desired state of a Context: exactly one source, and the size the agent may receive."""

    model_config = SpecModel.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["git"]}, {"required": ["configMap"]}, {"required": ["oci"]}]}
    }

    description: str | None = Field(default=None, description="What this context holds, for people.")
    git: GitContextSource | None = Field(default=None, description="A folder in git (or configMap, or oci).")
    config_map: ConfigMapContextSource | None = Field(default=None, description="A ConfigMap (or git, or oci).")
    oci: OCIContextSource | None = Field(default=None, description="An OCI artifact (or git, or configMap).")
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES,
        ge=1,
        le=MAX_BYTES_CEILING,
        description="Most bytes of text this context may hand an agent; a larger source is refused.",
    )
    allowed_namespaces: AllowedNamespaces | None = Field(
        default=None,
        description=(
            "Namespaces whose Agents may use this Context through spec.context.refs (git sources only: a pod "
            "mounts ConfigMaps of its own namespace only); only this namespace's when unset."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> ContextSpec:
        if sum(source is not None for source in (self.git, self.config_map, self.oci)) != 1:
            raise ValueError(EXACTLY_ONE_CONTEXT_SOURCE)
        return self

    @property
    def source_kind(self) -> ContextSourceKind:
        if self.git is not None:
            return "git"
        return "configMap" if self.config_map is not None else "oci"


class ContextVersion(StatusModel):
    """One context pinned to an immutable version: what an Agent's revision and a run carry."""

    name: str = Field(description="Name of the Context.")
    namespace: str | None = Field(
        default=None, description="Namespace of the Context, when it is not the Agent's (spec.context.refs)."
    )
    kind: ContextSourceKind = Field(description="git or configMap.")
    revision: str = Field(description="<ref>@sha1:<commit> for git, <configmap>@sha256:<digest> for a ConfigMap.")
    repo: str | None = Field(default=None, description="Repository (git).")
    path: str | None = Field(default=None, description="Folder in the repository (git).")
    commit: str | None = Field(default=None, description="Commit the ref resolved to (git).")
    config_map: str | None = Field(default=None, description="Name of the ConfigMap (configMap).")
    uid: str | None = Field(default=None, description="uid of the ConfigMap (configMap).")
    resource_version: str | None = Field(default=None, description="resourceVersion of the ConfigMap (configMap).")
    digest: str | None = Field(default=None, description="sha256:<hex> of the ConfigMap's content (configMap).")
    files: list[str] = Field(default_factory=list, description="Keys of the ConfigMap, one file each (configMap).")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, description="Size limit of the context's text.")

    @property
    def qualified_name(self) -> str:
        """`<namespace>/<name>` for another namespace's Context, else its name."""
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """Where the run finds it: the name, or `_shared/<namespace>/<name>` for another namespace's Context
        (`_` is in no Kubernetes name, so the two never collide)."""
        return self.name if self.namespace is None else f"_shared/{self.namespace}/{self.name}"


class ContextStatus(StatusModel):
    """Observed state of a Context."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, Stalled, Reconciling.")
    revision: str | None = Field(default=None, description="The resolved version, as in version.revision.")
    version: ContextVersion | None = Field(default=None, description="The immutable version Agents use.")
    size_bytes: int | None = Field(default=None, description="Bytes of text (known for ConfigMaps).")


class ContextSelector(SpecModel):
    """Contexts by label: every Context in the namespace whose labels include all of these."""

    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels a Context must carry.")


class AgentContext(SpecModel):
    """The contexts an Agent reads: by name, by label, or both (the union)."""

    names: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, max_length=32, description="Names of Contexts in the Agent's namespace."
    )
    selector: ContextSelector | None = Field(
        default=None, description="Contexts selected by label, e.g. a canary subset of a new version."
    )
    refs: list[ContextReference] = Field(
        default_factory=list,
        max_length=32,
        description=(
            "Contexts in other namespaces (a platform team's handbook), each used only if its "
            "spec.allowedNamespaces allows this Agent's namespace."
        ),
    )


class AgentMemory(SpecModel):
    """What the agent learnt from review, kept as files in a folder of its workspace repository.

    Every lesson is one file, proposed as a pull request after a revised pull request is merged; a person
    merges it (it takes effect for later runs) or closes it, and `git revert` removes it again.
    """

    path: str = Field(
        default=".atomesh/memory",
        min_length=1,
        max_length=512,
        pattern=r"^[^/].*$",
        description="Folder of the memory in the workspace repository (relative to its root).",
    )
    max_bytes: int = Field(
        default=65_536, ge=1, le=MAX_BYTES_CEILING, description="Most bytes of memory a run receives."
    )
    auto_accept: bool = Field(
        default=False,
        description="Merge lesson pull requests without a reviewer once their checks pass, unless one objects.",
    )


class Context(SpecModel):
    """A Context resource as stored in Kubernetes."""

    model_config = SpecModel.model_config | {"extra": "ignore"}

    api_version: Literal["atomesh.io/v1alpha1"] = Field(
        default="atomesh.io/v1alpha1", description="atomesh.io/v1alpha1"
    )
    kind: Literal["Context"] = Field(default="Context", description="Context")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: ContextSpec = Field(description="Desired state.")
    status: ContextStatus | None = Field(default=None, description="Observed state.")
