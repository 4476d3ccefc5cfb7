"""The generated CRDs agree with the models: instances built through the models validate against the
CRD schemas, CRD defaulting gives the models' defaults, every CRD is a valid apiextensions/v1 object
with a structural schema, and `atomesh crds --check` notices stale files."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from atomesh import cli
from atomesh.api import dump
from atomesh.api.common import DURATION_PATTERN
from atomesh.api.crd import KINDS, KindInfo, build_crds, openapi_schema
from atomesh.commands.crds import HEADER, rendered_files
from atomesh.devstack.kube import celrules

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
Schema = dict[str, Any]


# --- the OpenAPI v3 subset of a CRD, as a JSON Schema a validator can check strictly -----------------


def to_json_schema(node: Schema) -> Schema:
    """Translate a structural schema to draft 4 (boolean exclusive bounds, like OpenAPI v3.0).

    Unknown fields are rejected where the API server would prune them, so an instance carrying a
    field the CRD lacks fails instead of losing the field silently.
    """
    out: Schema = {k: v for k, v in node.items() if not k.startswith("x-kubernetes") and k != "default"}
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in node:
        out["properties"] = {name: to_json_schema(sub) for name, sub in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(node["additionalProperties"])
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    return out


def crd_validator(info: KindInfo) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(to_json_schema(openapi_schema(info.model)))


def apply_defaults(node: Schema, value: Any) -> Any:
    """What the API server does with `default`s of a structural schema."""
    if isinstance(value, dict) and "properties" in node:
        value = dict(value)
        for name, sub in node["properties"].items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = apply_defaults(sub, value[name])
    elif isinstance(value, dict) and isinstance(node.get("additionalProperties"), dict):
        value = {key: apply_defaults(node["additionalProperties"], item) for key, item in value.items()}
    elif isinstance(value, list) and "items" in node:
        value = [apply_defaults(node["items"], item) for item in value]
    return value


# --- instances generated from the models' own JSON Schema --------------------------------------------

_JSON_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
_FREE_FORM = st.dictionaries(st.text("abcdef", min_size=1, max_size=4), _JSON_SCALARS, max_size=3)
_DURATIONS = st.tuples(st.integers(0, 3), st.integers(0, 90), st.integers(0, 90)).filter(any)


def _duration(parts: tuple[int, int, int]) -> str:
    return "".join(f"{n}{unit}" for n, unit in zip(parts, "hms", strict=True) if n)


def strategy(node: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[Any]:
    """Values valid for a pydantic JSON Schema node (the subset the atomesh models use)."""
    if "$ref" in node:
        return strategy(
            {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}, defs
        )
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o != {"type": "null"}]
        return st.one_of([strategy(o, defs) for o in options])
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "string":
        if node.get("pattern") == DURATION_PATTERN:
            return _DURATIONS.map(_duration)
        low, high = node.get("minLength", 0), node.get("maxLength", 30)
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True).filter(lambda s: low <= len(s) <= high)
        return st.text(min_size=low, max_size=min(high, 30))
    if kind == "integer":
        low = node.get("minimum", node.get("exclusiveMinimum", -11) + 1)
        return st.integers(low, node.get("maximum", low + 1000))
    if kind == "number":
        low = node.get("minimum", node.get("exclusiveMinimum", -1.0))
        return st.floats(low, low + 1000, exclude_min="exclusiveMinimum" in node, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(strategy(node.get("items", {}), defs), min_size=node.get("minItems", 0), max_size=3)
    if kind == "object" and "properties" not in node:
        values = node.get("additionalProperties", True)
        if values is True:
            return _FREE_FORM
        # The one map of maps is runner.resources, whose keys a validator limits to requests and limits
        # (a rule the CRD cannot express; lint and the operator enforce it).
        keys = (
            st.sampled_from(["requests", "limits"]) if values.get("type") == "object" else st.text("abcxyz", min_size=1)
        )
        return st.dictionaries(keys, strategy(values, defs), max_size=3)
    if kind == "object":
        return _object(node, defs)
    raise AssertionError(f"no strategy for {node}")


def _object(node: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = node["properties"]
    required = set(node.get("required", []))
    choices = [set(option["required"]) for option in node.get("oneOf", [])]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        must = set(required)
        never: set[str] = set()
        if choices:  # exactly one of the oneOf alternatives
            chosen = draw(st.sampled_from(choices))
            must |= chosen
            never = set().union(*choices) - chosen
        value = {}
        for name, sub in properties.items():
            if name in never or (name not in must and not draw(st.booleans())):
                continue
            value[name] = draw(strategy(sub, defs))
        return value

    return build()


def instances(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    return strategy(schema, schema.get("$defs", {}))


# --- properties ------------------------------------------------------------------------------------

KIND_IDS = [info.kind for info in KINDS]
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@pytest.mark.parametrize("info", KINDS, ids=KIND_IDS)
def test_instances_built_by_the_models_validate_against_the_crd(info: KindInfo) -> None:
    validator = crd_validator(info)
    spec_schema = openapi_schema(info.model)["properties"]["spec"]

    @HYPOTHESIS
    @given(raw=instances(info.model))
    def check(raw: dict[str, Any]) -> None:
        raw["metadata"] = {"name": "x"}
        obj = info.model.model_validate(raw)
        wire = dump(obj)
        errors = sorted(validator.iter_errors(wire), key=str)
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
        # What the API server stores (its defaulting of what the user wrote) reads back as the same object:
        # the server defaults fields outside lists, the models those inside list items (api/crd.py says why).
        served = apply_defaults(spec_schema, raw["spec"])
        assert dump(info.model.model_validate({**raw, "spec": served}))["spec"] == wire["spec"]

    check()


@pytest.mark.parametrize("info", KINDS, ids=KIND_IDS)
def test_the_crd_rejects_what_the_models_reject(info: KindInfo) -> None:
    validator = crd_validator(info)
    base = {
        "Agent": {"purpose": "p", "instructions": "i", "output": {"artifact": "code"}, "workspace": {"repo": "a/b"},
                  "harness": {"model": "m"}},
        "AgentRun": {"agentRef": {"name": "a"}},
        "Mesh": {"agents": [{"name": "a", "agentRef": {"name": "a"}}]},
        "Context": {"configMap": {"name": "handbook"}},
        "Budget": {"perDay": {"usd": 1.5}},
    }[info.kind]  # fmt: skip
    assert validator.is_valid({"apiVersion": "atomesh.io/v1alpha1", "kind": info.kind, "spec": base})
    assert not validator.is_valid({"spec": {**base, "unknownField": 1}})
    assert not validator.is_valid({"status": {}})  # spec is required


def test_agent_crd_enforces_exactly_one_instruction_source() -> None:
    """A CEL rule (api/rules.py), not a oneOf, so the API server's message says what to set."""
    schema = openapi_schema(KINDS[0].model)
    assert "oneOf" not in json.dumps(schema)
    tree = celrules.tree_for(schema)
    spec = {"purpose": "p", "output": {"artifact": "doc"}, "workspace": {"repo": "a/b"}, "harness": {"model": "m"}}

    def problems(spec: dict[str, Any]) -> list[str]:
        obj = {"metadata": {"name": "a"}, "spec": apply_defaults(schema["properties"]["spec"], spec)}
        return [f"{c['field']}: {c['message']}" for c in celrules.validate(tree, obj, None, [])]

    exactly_one = ['spec: Invalid value: "object": set exactly one of instructions (inline) or source (in git)']
    assert problems(spec) == exactly_one
    assert problems({**spec, "instructions": "i"}) == []
    assert problems({**spec, "source": {"repo": "r"}}) == []
    assert problems({**spec, "instructions": "i", "source": {"repo": "r"}}) == exactly_one


def test_crd_defaults_give_the_model_defaults_of_a_minimal_agent() -> None:
    spec = {"purpose": "p", "instructions": "i", "output": {"artifact": "code"}, "workspace": {"repo": "a/b"},
            "harness": {"model": "m"}}  # fmt: skip
    defaulted = apply_defaults(openapi_schema(KINDS[0].model)["properties"]["spec"], spec)
    assert defaulted["harness"] == {
        "model": "m",
        "kind": "claude-code",
        "maxTurns": 30,
        "allowedTools": [],
    }
    assert defaulted["limits"] == {"timeout": "30m"}
    assert defaulted["input"] == {"schema": {"type": "object"}}
    assert defaulted["output"]["paths"] == ["**"]


# --- the CRD objects ------------------------------------------------------------------------------


def walk(node: Schema, path: str = "") -> list[tuple[str, Schema]]:
    found = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        found += walk(sub, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        found += walk(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        found += walk(node["items"], f"{path}[]")
    return found


@pytest.mark.parametrize("info", KINDS, ids=KIND_IDS)
def test_schema_is_structural_and_described(info: KindInfo) -> None:
    schema = openapi_schema(info.model)
    for path, node in walk(schema):
        assert not {"$ref", "$defs", "anyOf", "allOf", "const", "title", "nullable"} & set(node), path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), f"{path}: structural schemas need a type"
        assert not ("properties" in node and "additionalProperties" in node), path
        if not path.endswith(("[]", ".*")) and path != ".metadata":  # metadata may carry no description
            assert node.get("description"), f"{path}: no description for kubectl explain"
        if "default" in node:
            assert jsonschema.Draft4Validator(to_json_schema(node)).is_valid(node["default"]), path
        if not path.startswith(".spec"):
            assert "default" not in node or path == "", f"{path}: status fields carry no defaults"
    assert schema["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize("info", KINDS, ids=KIND_IDS)
def test_printer_columns_point_at_fields(info: KindInfo) -> None:
    schema = openapi_schema(info.model)
    for column in info.columns:
        node: Schema = schema
        path = re.sub(r'\[\?\(@\.type=="\w+"\)\]', "[]", column.json_path)
        if path == ".metadata.creationTimestamp":
            continue  # metadata is the API server's
        for part in path.removeprefix(".").split("."):
            node = node["properties"][part.removesuffix("[]")]
            if part.endswith("[]"):
                node = node["items"]
                assert "type" in node["required"]
        expected = "string" if column.type == "date" else column.type
        assert node["type"] == expected, column


def test_names_scope_and_subresources() -> None:
    crds = build_crds()
    assert sorted(crds) == [
        "atomesh.io_agentruns.yaml",
        "atomesh.io_agents.yaml",
        "atomesh.io_budgets.yaml",
        "atomesh.io_contexts.yaml",
        "atomesh.io_meshes.yaml",
    ]
    short = {crd["spec"]["names"]["kind"]: crd["spec"]["names"]["shortNames"] for crd in crds.values()}
    assert short == {"Agent": ["ag"], "AgentRun": ["agr"], "Mesh": ["msh"], "Context": ["ctx"], "Budget": ["bgt"]}
    for crd in crds.values():
        assert crd["spec"]["scope"] == "Namespaced"
        assert crd["spec"]["names"]["categories"] == ["atomesh"]
        (version,) = crd["spec"]["versions"]
        assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
        assert version["subresources"] == {"status": {}}
        assert version["additionalPrinterColumns"][-1]["name"] == "Age"


def test_generation_is_deterministic() -> None:
    assert rendered_files() == rendered_files()
    assert build_crds() == build_crds()


@pytest.mark.parametrize("path", sorted(CRDS.glob("*.yaml")), ids=lambda p: p.name)
def test_kubernetes_validate_accepts_every_crd_file(path: Path) -> None:
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert kubernetes_validate.validate(crd, "1.37", strict=True) == "1.37"


def test_kubernetes_validate_rejects_a_broken_crd() -> None:
    """The check above can fail: a numeric exclusiveMinimum (draft 2020-12 style) is not apiextensions/v1."""
    crd = copy.deepcopy(build_crds()["atomesh.io_agents.yaml"])
    limits = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["limits"]
    limits["properties"]["maxCostUSD"]["exclusiveMinimum"] = 0
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(crd, "1.37", strict=True)


# --- atomesh crds --------------------------------------------------------------------------------


def test_committed_crds_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["crds", "--check", "--out", str(CRDS)]) == 0, capsys.readouterr().err


def test_check_names_stale_missing_and_orphaned_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "crds"
    shutil.copytree(CRDS, out)
    agents = out / "atomesh.io_agents.yaml"
    agents.write_text(agents.read_text().replace("maximum: 500", "maximum: 50"))
    (out / "atomesh.io_meshes.yaml").unlink()
    (out / "atomesh.io_olds.yaml").write_text(HEADER + "---\n{}\n")

    assert cli.main(["crds", "--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{agents}: stale" in err
    assert f"{out / 'atomesh.io_meshes.yaml'}: missing" in err
    assert "atomesh.io_olds.yaml: generated file of no current kind" in err
    assert f"atomesh crds --out {out}" in err

    assert cli.main(["crds", "--out", str(out)]) == 0
    (out / "atomesh.io_olds.yaml").unlink()
    assert cli.main(["crds", "--check", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in CRDS.iterdir())


def test_a_crd_kube_apiserver_rejects_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule that once let all three CRDs through: nothing but name and generateName under metadata."""
    import atomesh.commands.crds as command
    from atomesh.api.crd import build_crds

    generated = build_crds()
    agents = generated["atomesh.io_agents.yaml"]
    schema = agents["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["metadata"] = {"type": "object", "description": "Standard object metadata."}
    monkeypatch.setattr(command, "build_crds", lambda: generated)

    out = tmp_path / "crds"
    assert cli.main(["crds", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "atomesh.io_agents.yaml: kube-apiserver would reject it" in err
    assert "must not specify anything other than name and generateName" in err
    assert not out.exists()
    assert cli.main(["crds", "--check"]) == 1
