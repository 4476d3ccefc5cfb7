"""`atomesh lint`: Agents, Meshes and AgentRuns checked offline, each problem on the line of its field.

What the API server would reject (strict, like `kubectl apply --validate=strict`) is checked with
the same models the CRDs come from; what it would accept but atomesh cannot run (a cycle in a Mesh,
a bad cron expression, a run input that does not fit its Agent) with the checks the operator uses.
Objects of other API groups are skipped, so lint runs on a whole repository of manifests.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from atomesh.api import constants
from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.agentrun import AgentRun, AgentRunSpec
from atomesh.api.budget import Budget, BudgetSpec, BudgetWindows
from atomesh.api.common import DNS_SUBDOMAIN_PATTERN
from atomesh.api.context import AgentContext, Context, ContextSpec
from atomesh.api.crd import openapi_schema
from atomesh.api.mesh import Mesh, MeshSpec
from atomesh.api.rules import EXACTLY_ONE_SOURCE, SELECTOR_REQUIRED
from atomesh.core.admission import cost_limit
from atomesh.core.context import OCI_UNSUPPORTED
from atomesh.core.graph import validate_graph
from atomesh.core.meshcheck import edge_input_problems
from atomesh.core.references import SHARED_CONFIGMAP, reference_refusal
from atomesh.core.revision import unpriced
from atomesh.core.validation import (
    FieldError,
    Loc,
    check_cron,
    check_input,
    check_input_bounds,
    check_json_schema,
    check_timezone,
    format_path,
    validate_agent_spec,
)
from atomesh.lint.messages import JsonSchema, translate, type_name
from atomesh.lint.source import Document, read_documents
from atomesh.pricing import price_of

KINDS: dict[str, type[BaseModel]] = {
    constants.KIND_AGENT: Agent,
    constants.KIND_AGENT_RUN: AgentRun,
    constants.KIND_MESH: Mesh,
    constants.KIND_CONTEXT: Context,
    constants.KIND_BUDGET: Budget,
}
_SPEC_MODELS: dict[str, type[BaseModel]] = {
    constants.KIND_AGENT: AgentSpec,
    constants.KIND_AGENT_RUN: AgentRunSpec,
    constants.KIND_MESH: MeshSpec,
    constants.KIND_CONTEXT: ContextSpec,
    constants.KIND_BUDGET: BudgetSpec,
}
_TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec", "status")
_METADATA = (
    "name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences", "uid",
    "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "managedFields", "selfLink",
)  # fmt: skip
# atomesh puts object names into label values (atomesh.io/agent=<name>), which allow 63 characters.
NAME_MAX_LENGTH = 63
_NAME = re.compile(DNS_SUBDOMAIN_PATTERN)
SUFFIXES = (".yaml", ".yml")
EXACTLY_ONE = EXACTLY_ONE_SOURCE  # the Agent CRD's CEL rule says the same


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: `FILE:LINE: Kind/name: spec.field.path: message` (object and path when known)."""

    file: str
    line: int
    obj: str
    path: str
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (f"{self.file}:{self.line}", self.obj, self.path, self.message) if part)


@dataclass
class _Object:
    """An atomesh object found in a document, with its spec once the spec validates."""

    document: Document
    kind: str
    name: str
    namespace: str
    label: str
    spec: BaseModel | None = None


@functools.cache
def _spec_schema(kind: str) -> JsonSchema:
    schema: JsonSchema = openapi_schema(KINDS[kind])["properties"]["spec"]
    return schema


class _Linter:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.objects: list[_Object] = []

    def report(self, document: Document, obj: str, errors: Iterable[FieldError]) -> None:
        for error in errors:
            line = document.line_of(error.loc)
            self.findings.append(Finding(document.file, line, obj, error.path, error.message))

    def document(self, document: Document) -> None:
        data = document.data
        if not isinstance(data, dict) or not isinstance(data.get("apiVersion"), str):
            return  # not a Kubernetes object (values files, workflows, ...)
        group, _, version = data["apiVersion"].rpartition("/")
        if group != constants.GROUP:
            return
        kind = data.get("kind")
        name, namespace, label = _identity(data, kind)
        if version != constants.VERSION:
            self.reading_problems(document, label)
            self.report(
                document, label, [FieldError(("apiVersion",), _unknown("version", version, [constants.VERSION]))]
            )
            return
        if kind not in KINDS:
            self.reading_problems(document, label)
            self.report(document, label, [FieldError(("kind",), _unknown("kind", kind, list(KINDS)))])
            return
        obj = _Object(document, kind, name, namespace, label)
        self.objects.append(obj)
        errors = [
            FieldError((key,), f"unknown field {key!r}; allowed fields: {', '.join(_TOP_LEVEL)}")
            for key in data
            if key not in _TOP_LEVEL
        ]
        errors += _check_metadata(data.get("metadata"))
        errors += self.spec(obj, data.get("spec"))
        # A boolean-looking key that is no field at all gets the unknown-field message alone: quoting it won't help.
        self.reading_problems(document, label, skip={e.loc for e in errors if e.message.startswith("unknown field")})
        self.report(document, label, errors)

    def reading_problems(self, document: Document, label: str, skip: Set[Loc] = frozenset()) -> None:
        """What reading the YAML found (duplicate keys, keys YAML 1.1 reads as booleans), except at `skip`."""
        for problem, line in document.problems:
            if problem.loc not in skip:
                self.findings.append(Finding(document.file, line, label, problem.path, problem.message))

    def spec(self, obj: _Object, spec: Any) -> list[FieldError]:
        model = _SPEC_MODELS[obj.kind]
        if spec is None:
            return [FieldError(("spec",), f"required field is missing: every {obj.kind} needs a spec")]
        try:
            obj.spec = model.model_validate(spec, strict=True)
        except ValidationError as error:
            errors = translate(error, spec, _spec_schema(obj.kind), ("spec",))
            # Pydantic skips cross-field and semantic rules once a field fails; report them anyway.
            if obj.kind == constants.KIND_AGENT and isinstance(spec, dict):
                errors = [e for e in errors if e.loc != ("spec",)] + _raw_agent_checks(spec)
            return errors
        if isinstance(obj.spec, AgentSpec):
            return validate_agent_spec(obj.spec) + _cost_limit_problems(obj.spec)
        if isinstance(obj.spec, MeshSpec):
            return validate_graph(obj.spec) + _budget_timezone(obj.spec.budget)
        if isinstance(obj.spec, BudgetSpec):
            return _budget_timezone(obj.spec, ("spec",))
        if isinstance(obj.spec, ContextSpec):
            return _context_problems(obj.spec)
        return []

    def across_documents(self) -> None:
        """Duplicate objects in a file; the Agents that runs and meshes name, and what they pass them, checked
        against the Agents given to the same lint."""
        # Only within one file: across files the same name is usual (kustomize overlays, environments).
        seen: dict[tuple[str, str, str, str], _Object] = {}
        for obj in self.objects:
            key = (obj.document.file, obj.kind, obj.namespace, obj.name)
            if obj.name and key in seen:
                first = seen[key].document
                message = f"duplicate {obj.label} (also line {first.line}); the later one overwrites it"
                self.report(obj.document, obj.label, [FieldError(("metadata", "name"), message)])
            seen.setdefault(key, obj)
        for obj in self.objects:
            if isinstance(obj.spec, AgentRunSpec):
                self.report(obj.document, obj.label, self.run_references(obj, obj.spec))
            elif isinstance(obj.spec, MeshSpec):
                self.report(obj.document, obj.label, self.mesh_references(obj, obj.spec))
            elif isinstance(obj.spec, AgentSpec) and obj.spec.context is not None:
                self.report(obj.document, obj.label, self.context_references(obj, obj.spec.context))

    def agents_for(self, obj: _Object) -> dict[str, AgentSpec]:
        """The Agents linted together with `obj` that it can name (same namespace, or either unset)."""
        return {
            agent.name: agent.spec
            for agent in self.objects
            if isinstance(agent.spec, AgentSpec) and _same_namespace(agent.namespace, obj.namespace)
        }

    def run_references(self, run: _Object, spec: AgentRunSpec) -> list[FieldError]:
        agent = self.agents_for(run).get(spec.agent_ref.name)
        if agent is None:
            # The input's size and depth are bounded whatever the Agent says.
            bounds = check_input_bounds(spec.input, ("spec", "input"))
            return bounds or [FieldError(("spec", "agentRef", "name"), _not_linted(spec.agent_ref.name, "its input"))]
        return check_input(spec.input, agent.input.json_schema, ("spec", "input"))

    def context_references(self, agent: _Object, selection: AgentContext) -> list[FieldError]:
        """Every Context an Agent names must be linted with it (as an AgentRun's Agent must)."""
        known = {
            obj.name
            for obj in self.objects
            if isinstance(obj.spec, ContextSpec) and _same_namespace(obj.namespace, agent.namespace)
        }
        errors = [
            FieldError(
                ("spec", "context", "names", index),
                f"no Context {name!r} in the files linted; lint its manifest together with this Agent "
                "(e.g. atomesh lint agents/ contexts/) so the reference can be checked",
            )
            for index, name in enumerate(selection.names)
            if name not in known
        ]
        return errors + self.shared_context_references(agent, selection)

    def shared_context_references(self, agent: _Object, selection: AgentContext) -> list[FieldError]:
        """Each Context of another namespace must be linted with the Agent and allow its namespace; a rule by
        namespace Selector is left to the operator (the namespace's labels are in the cluster, not in files)."""
        shared = {
            (obj.namespace, obj.name): obj.spec
            for obj in self.objects
            if isinstance(obj.spec, ContextSpec) and obj.namespace
        }
        errors = []
        for index, ref in enumerate(selection.refs):
            loc = ("spec", "context", "refs", index)
            target = shared.get((ref.namespace, ref.name))
            if target is None:
                errors.append(
                    FieldError(
                        loc,
                        f"no Context {ref.namespace}/{ref.name} in the files linted; lint its manifest together "
                        "with this Agent so the reference can be checked",
                    )
                )
                continue
            allowed = target.allowed_namespaces
            if not agent.namespace or (allowed is not None and allowed.from_ == "Selector"):
                continue
            refusal = reference_refusal(
                allowed,
                target=f"Context {ref.namespace}/{ref.name}",
                target_namespace=ref.namespace,
                from_namespace=agent.namespace,
                from_labels=None,
            )
            if refusal is None and target.config_map is not None and agent.namespace != ref.namespace:
                refusal = f"Context {ref.namespace}/{ref.name} is a ConfigMap context: {SHARED_CONFIGMAP}"
            if refusal is not None:
                errors.append(FieldError(loc, refusal))
        return errors

    def mesh_references(self, mesh: _Object, spec: MeshSpec) -> list[FieldError]:
        agents = self.agents_for(mesh)
        errors = [
            FieldError(("spec", "agents", index, "agentRef", "name"), _not_linted(node.agent_ref.name, "its edges"))
            for index, node in enumerate(spec.agents)
            if node.agent_ref.name not in agents
        ]
        return errors + edge_input_problems(spec, agents)


def _not_linted(agent: str, what: str) -> str:
    return (
        f"no Agent {agent!r} in the files linted; lint its manifest together with this one "
        f"(e.g. atomesh lint agents/ runs/) so {what} can be checked against it"
    )


def _context_problems(spec: ContextSpec) -> list[FieldError]:
    errors = [FieldError(("spec", "oci"), OCI_UNSUPPORTED)] if spec.oci is not None else []
    allowed = spec.allowed_namespaces
    if allowed is not None and allowed.from_ == "Selector" and allowed.selector is None:
        errors.append(FieldError(("spec", "allowedNamespaces", "selector"), SELECTOR_REQUIRED))
    return errors


def _budget_timezone(budget: BudgetWindows | None, loc: tuple[str, ...] = ("spec", "budget")) -> list[FieldError]:
    return check_timezone(budget.timezone, (*loc, "timezone")) if budget is not None else []


def _cost_limit_problems(spec: AgentSpec) -> list[FieldError]:
    """A cost limit on a model without a price never holds: the operator fails such runs (CostUnknown)."""
    limit = cost_limit(spec)
    if limit is None or spec.harness.price is not None or price_of(spec.harness.model):
        return []
    field = limit.partition("=")[0]
    return [FieldError(("spec", "harness", "model"), f"{unpriced(spec)}; {field} needs a price")]


def _raw_agent_checks(spec: dict[str, Any]) -> list[FieldError]:
    """The semantic Agent checks on an Agent spec that failed schema validation, where types allow."""
    errors: list[FieldError] = []
    if ("instructions" in spec) == ("source" in spec):
        errors.append(FieldError(("spec",), EXACTLY_ONE))
    triggers = spec.get("triggers") if isinstance(spec.get("triggers"), dict) else {}
    assert isinstance(triggers, dict)
    if isinstance(triggers.get("schedule"), str):
        errors += check_cron(triggers["schedule"], ("spec", "triggers", "schedule"))
    if isinstance(triggers.get("timezone"), str):
        errors += check_timezone(triggers["timezone"], ("spec", "triggers", "timezone"))
    schema = spec.get("input", {}).get("schema") if isinstance(spec.get("input"), dict) else None
    if isinstance(schema, dict):
        errors += check_json_schema(schema, ("spec", "input", "schema"))
    return errors


def _identity(data: dict[str, Any], kind: Any) -> tuple[str, str, str]:
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else ""
    generate = metadata.get("generateName")
    shown = name or (f"{generate}*" if isinstance(generate, str) else "<unnamed>")
    namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else ""
    return str(name), str(namespace), f"{kind if isinstance(kind, str) else '<no-kind>'}/{shown}"


def _same_namespace(first: str, second: str) -> bool:
    # An object without a namespace is applied to the namespace of the kubectl context.
    return not first or not second or first == second


def _unknown(what: str, value: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {what} {value!r} in {constants.GROUP}; must be one of: {', '.join(allowed)}{hint}"


def _check_metadata(metadata: Any) -> list[FieldError]:
    if not isinstance(metadata, dict):
        return [FieldError(("metadata",), "required field is missing: set metadata.name")]
    errors = [
        FieldError(("metadata", key), f"unknown field {key!r}; allowed fields: {', '.join(sorted(_METADATA))}")
        for key in metadata
        if key not in _METADATA
    ]
    name = metadata.get("name")
    if name is None and metadata.get("generateName") is None:
        errors.append(FieldError(("metadata", "name"), "required field is missing (or set generateName)"))
    elif name is not None and (not isinstance(name, str) or len(name) > NAME_MAX_LENGTH or not _NAME.match(name)):
        errors.append(
            FieldError(
                ("metadata", "name"),
                f"{name!r} is not a valid name; use at most {NAME_MAX_LENGTH} lowercase letters, digits, '-' and '.',"
                " starting and ending with a letter or digit",
            )
        )
    for key in ("labels", "annotations"):
        value = metadata.get(key, {})
        if not isinstance(value, dict):
            errors.append(FieldError(("metadata", key), f"must be a mapping of strings, not {type_name(value)}"))
            continue
        errors += [
            FieldError(("metadata", key, item), f"value must be a string (quote it), not {type_name(text)}")
            for item, text in value.items()
            if not isinstance(text, str)
        ]
    return errors


def _helm_template(path: Path) -> bool:
    """Helm chart templates are Go templates, not YAML; a folder walk skips them (naming one still lints it)."""
    return any(folder.name == "templates" and (folder.parent / "Chart.yaml").is_file() for folder in path.parents)


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """Files named on the command line, and *.yaml / *.yml under folders (hidden folders and Helm templates skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                found
                for found in path.rglob("*")
                if found.suffix in SUFFIXES
                and found.is_file()
                and not any(part.startswith(".") for part in found.relative_to(path).parts)
                and not _helm_template(found)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def lint_texts(sources: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for (file name, YAML text) pairs, sorted by file and line."""
    linter = _Linter()
    for file, text in sources:
        documents, parse_error = read_documents(file, text)
        for document in documents:
            linter.document(document)
        if parse_error is not None:
            linter.findings.append(Finding(file, parse_error.line, "", "", parse_error.message))
    linter.across_documents()
    return sorted(set(linter.findings), key=lambda f: (f.file, f.line, f.path, f.message))


def lint_paths(paths: Sequence[Path]) -> list[Finding]:
    """Findings for files and folders; FileNotFoundError names a path that does not exist."""
    return lint_texts((str(path), path.read_text(encoding="utf-8")) for path in manifest_files(paths))


__all__ = ["Finding", "format_path", "lint_paths", "lint_texts", "manifest_files"]
