"""CustomResourceDefinitions generated from the API models, which are the single source of the schemas.

The models' JSON Schema (draft 2020-12, with `$ref`s and `anyOf null`) is translated into the
structural OpenAPI v3 subset that apiextensions.k8s.io/v1 accepts: references inlined, optional
fields simply not required, exclusive bounds as booleans, free-form maps preserved, and spec
defaults written so the API server fills nested objects (an all-default object defaults to `{}`
and the server then defaults its fields). Pure and deterministic: the same models give the same
dicts, which `atomesh crds` writes to YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from atomesh.api import constants
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.budget import Budget
from atomesh.api.context import Context
from atomesh.api.mesh import Mesh
from atomesh.api.rules import rules_for

JsonSchema = dict[str, Any]

READY_PATH = '.status.conditions[?(@.type=="Ready")].status'

# Keywords copied as they are; anything else the models produce is translated below or rejected,
# so a new construct in the models fails generation instead of yielding a CRD the server refuses.
_PLAIN_KEYWORDS = frozenset(
    {
        "description",
        "type",
        "format",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "required",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
    }
)


@dataclass(frozen=True)
class PrinterColumn:
    """One `kubectl get` column."""

    name: str
    type: str
    json_path: str
    description: str


@dataclass(frozen=True)
class KindInfo:
    """What the CRD of one kind needs beyond its model."""

    model: type[BaseModel]
    kind: str
    plural: str
    short_names: tuple[str, ...]
    columns: tuple[PrinterColumn, ...]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{constants.GROUP}"

    @property
    def file_name(self) -> str:
        return f"{constants.GROUP}_{self.plural}.yaml"


_AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since the object was created.")
_READY = PrinterColumn("Ready", "string", READY_PATH, "Status of the Ready condition.")

KINDS: tuple[KindInfo, ...] = (
    KindInfo(
        model=Agent,
        kind=constants.KIND_AGENT,
        plural=constants.PLURAL_AGENTS,
        short_names=("ag",),
        columns=(
            PrinterColumn("Artifact", "string", ".spec.output.artifact", "Artifact type the agent produces."),
            PrinterColumn("Harness", "string", ".spec.harness.kind", "Harness that runs the agent."),
            PrinterColumn("Model", "string", ".spec.harness.model", "Model the harness uses."),
            _READY,
            PrinterColumn(
                "Accepted", "number", ".status.reviews.acceptanceRate", "Merged / decided pull requests of its runs."
            ),
            PrinterColumn("Revision", "string", ".status.revision", "Resolved revision runs use."),
            _AGE,
        ),
    ),
    KindInfo(
        model=AgentRun,
        kind=constants.KIND_AGENT_RUN,
        plural=constants.PLURAL_AGENT_RUNS,
        short_names=("agr",),
        columns=(
            PrinterColumn("Agent", "string", ".spec.agentRef.name", "The Agent this run executes."),
            PrinterColumn("Phase", "string", ".status.phase", "Phase of the run."),
            PrinterColumn("Reason", "string", ".status.reason", "Why the run is in its phase, e.g. CheckoutFailed."),
            PrinterColumn("Artifact", "string", ".status.artifact.type", "Type of the artifact produced."),
            PrinterColumn("Review", "string", ".status.review.url", "Pull request carrying the artifact."),
            PrinterColumn("Cost", "number", ".status.usage.costUSD", "Model spend in US dollars."),
            _AGE,
        ),
    ),
    KindInfo(
        model=Mesh,
        kind=constants.KIND_MESH,
        plural=constants.PLURAL_MESHES,
        short_names=("msh",),
        columns=(
            _READY,
            PrinterColumn("Agents", "string", ".status.agentsSummary", "Nodes whose Agent is Ready / all nodes."),
            PrinterColumn("Active", "integer", ".status.activeRuns", "Runs Pending or Running."),
            PrinterColumn("Awaiting review", "integer", ".status.awaitingReview", "Pull requests awaiting review."),
            PrinterColumn("Cost today", "number", ".status.costTodayUSD", "Spend today (UTC) in US dollars."),
            _AGE,
        ),
    ),
    KindInfo(
        model=Budget,
        kind=constants.KIND_BUDGET,
        plural=constants.PLURAL_BUDGETS,
        short_names=("bgt",),
        columns=(
            _READY,
            PrinterColumn(
                "Exceeded",
                "string",
                '.status.conditions[?(@.type=="BudgetExceeded")].status',
                "A hard limit is reached.",
            ),
            PrinterColumn("Today", "number", ".status.costTodayUSD", "Spend of the current day in US dollars."),
            PrinterColumn("Per day", "number", ".spec.perDay.usd", "Daily limit in US dollars."),
            PrinterColumn("Month", "number", ".status.costThisMonthUSD", "Spend of the current month in US dollars."),
            PrinterColumn("Per month", "number", ".spec.perMonth.usd", "Monthly limit in US dollars."),
            _AGE,
        ),
    ),
    KindInfo(
        model=Context,
        kind=constants.KIND_CONTEXT,
        plural=constants.PLURAL_CONTEXTS,
        short_names=("ctx",),
        columns=(
            _READY,
            PrinterColumn("Revision", "string", ".status.revision", "The immutable version Agents use."),
            PrinterColumn("Size", "integer", ".status.sizeBytes", "Bytes of text, when known."),
            _AGE,
        ),
    ),
)


class _FactoryDefaults(GenerateJsonSchema):
    """Pydantic leaves `default_factory` values out of the schema; the CRD needs them."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)


class _Translator:
    """Turns one model's JSON Schema into a structural OpenAPI v3 schema."""

    def __init__(self, defs: dict[str, JsonSchema]) -> None:
        self.defs = defs

    def node(self, schema: JsonSchema, path: str, *, defaults: bool) -> JsonSchema:
        schema = self._flatten(schema, path)
        out: JsonSchema = {}
        for key, value in schema.items():
            if key in _PLAIN_KEYWORDS:
                out[key] = value
            elif key == "title" or (key == "additionalProperties" and value is False):
                continue  # titles are noise; unknown fields are pruned by the server (strict lint rejects them)
            elif key == "additionalProperties" and value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif key == "additionalProperties":
                out[key] = self.node(value, f"{path}.*", defaults=defaults)
            elif key == "properties":
                out[key] = {name: self.node(sub, f"{path}.{name}", defaults=defaults) for name, sub in value.items()}
            elif key == "items":
                # No server-side defaults inside list items: our lists are atomic (JSON merge patch replaces
                # them whole), so a defaulted field in an item makes every `kubectl apply` a change and every
                # GitOps diff dirty. The models apply those defaults when they read the object.
                out[key] = self.node(value, f"{path}[]", defaults=False)
            elif key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                # OpenAPI v3.0 (and so apiextensions v1) spells exclusive bounds as booleans.
                out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
                out[key] = True
            elif key == "oneOf" and all(set(option) == {"required"} for option in value):
                # A oneOf's message ("must validate one and only one schema") says nothing useful: a CEL rule of
                # api/rules.py says it instead (add_rules checks there is one).
                out[_ONE_OF_REPLACED] = value
            elif key == "default":
                if defaults and value is not None:
                    out[key] = value
            else:
                raise ValueError(f"{path}: JSON Schema keyword {key!r} has no structural CRD form; change the model")
        if "default" in out:
            out["default"] = _minimal_default(out, out["default"])
        if out.get("x-kubernetes-preserve-unknown-fields") and "type" not in out:
            out["type"] = "object"
        return out

    def _flatten(self, schema: JsonSchema, path: str) -> JsonSchema:
        """Inline a `$ref` and drop the `null` branch of an optional field; sibling keys win."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return self._flatten({**self.defs[name], **rest}, path)
        if "anyOf" in schema:
            options = [option for option in schema["anyOf"] if option != {"type": "null"}]
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            if len(options) == 1:
                return self._flatten({**options[0], **rest}, path)
            if sorted(option.get("type", "") for option in options) == ["integer", "string"]:
                return {**rest, "x-kubernetes-int-or-string": True}
            raise ValueError(f"{path}: a union of {options} has no structural CRD form; change the model")
        return schema


_ONE_OF_REPLACED = "x-atomesh-one-of-replaced"


def _node_at(schema: JsonSchema, path: str) -> JsonSchema:
    """The node of a schema path such as `spec.review.checks` or `spec.edges[]` (`[]`: the items)."""
    node = schema
    for part in path.split("."):
        name, items = part.removesuffix("[]"), part.endswith("[]")
        node = node["properties"][name]
        if items:
            node = node["items"]
    return node


def add_rules(schema: JsonSchema, kind: str) -> JsonSchema:
    """The CEL rules of api/rules.py, put at their schema paths; a replaced oneOf must have a rule at its node
    in spec (status, written by the operator from a valid spec, needs none)."""
    for path, rules in rules_for(kind).items():
        node = _node_at(schema, path)
        node["x-kubernetes-validations"] = [rule.to_crd() for rule in rules]

    def check(node: JsonSchema, path: str) -> None:
        replaced = node.pop(_ONE_OF_REPLACED, None) is not None
        if replaced and path.startswith(".spec") and not node.get("x-kubernetes-validations"):
            raise ValueError(f"{path}: a oneOf needs a CEL rule in api/rules.py saying what to set")
        for name, sub in (node.get("properties") or {}).items():
            check(sub, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                check(node[key], f"{path}[]")

    check(schema, "")
    return schema


def _minimal_default(schema: JsonSchema, value: Any) -> Any:
    """Drop from an object default what the server fills in from the nested defaults anyway."""
    properties = schema.get("properties")
    if not isinstance(value, dict) or not properties:
        return value
    minimal: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key)
        if item is None:
            continue
        if sub is None:
            minimal[key] = item
            continue
        item = _minimal_default(sub, item)
        if "default" in sub and sub["default"] == item:
            continue
        minimal[key] = item
    return minimal


def openapi_schema(model: type[BaseModel]) -> JsonSchema:
    """The structural openAPIV3Schema of a kind's model (defaults in spec only, never in status)."""
    source = model.model_json_schema(by_alias=True, mode="validation", schema_generator=_FactoryDefaults)
    translator = _Translator(source.get("$defs", {}))
    properties: dict[str, JsonSchema] = {
        "apiVersion": {
            "type": "string",
            "description": "Versioned schema of this representation of the object: atomesh.io/v1alpha1.",
        },
        "kind": {"type": "string", "description": "REST resource this object represents."},
        # The API server owns metadata: apiextensions forbids anything under it but `type: object`
        # (and name/generateName constraints), a description included.
        "metadata": {"type": "object"},
    }
    for name in ("spec", "status"):
        properties[name] = translator.node(source["properties"][name], name, defaults=name == "spec")
    schema = {
        "type": "object",
        "description": (model.__doc__ or model.__name__).strip(),
        "properties": properties,
        "required": ["spec"],
    }
    kind = model.model_fields["kind"].default
    return add_rules(schema, kind) if isinstance(kind, str) else schema


def build_crd(info: KindInfo) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": constants.GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.kind.lower(),
                "shortNames": list(info.short_names),
                "categories": [constants.CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": constants.VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": openapi_schema(info.model)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": c.name, "type": c.type, "jsonPath": c.json_path, "description": c.description}
                        for c in info.columns
                    ],
                }
            ],
        },
    }


def build_crds() -> dict[str, dict[str, Any]]:
    """File name -> CRD, for every kind (e.g. `atomesh.io_agents.yaml`)."""
    return {info.file_name: build_crd(info) for info in KINDS}
