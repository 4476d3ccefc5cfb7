"""`/openapi/v2`: the JSON document kube-apiserver serves, generated from the served kinds and the CRDs'
schemas; the protobuf form is refused by name, and kubectl says so."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from tests.fixtures.kube import REPO, Kubectl, RunningKubeAPI, http_error_status

from atomesh.devstack.kube.openapi_v2 import PROTOBUF

pytestmark = pytest.mark.integration


def _get(kube_api: RunningKubeAPI, accept: str) -> Any:
    request = urllib.request.Request(kube_api.url + "/openapi/v2", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.read())


def _examples(kind: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted((REPO / "agents").glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc and doc.get("kind") == kind]
    return found


def test_the_document_has_every_kind_and_validates_the_examples(kube_api: RunningKubeAPI) -> None:
    kube_api.apply_crds()
    document = _get(kube_api, "application/json")
    assert document["swagger"] == "2.0"
    definitions = document["definitions"]
    for name in ("io.atomesh.v1alpha1.Agent", "io.atomesh.v1alpha1.Mesh", "io.atomesh.v1alpha1.AgentRun"):
        kind = name.rsplit(".", 1)[1]
        assert definitions[name]["x-kubernetes-group-version-kind"] == [
            {"group": "atomesh.io", "kind": kind, "version": "v1alpha1"}
        ]
    for definition in definitions.values():
        jsonschema.Draft4Validator.check_schema(definition)
    patch = document["paths"]["/apis/atomesh.io/v1alpha1/namespaces/{namespace}/agents/{name}"]["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert "application/strategic-merge-patch+json" not in patch["consumes"]

    registry: Registry[Any] = Registry().with_resource("urn:v2", Resource(contents=document, specification=DRAFT4))

    def validator(kind: str) -> jsonschema.Draft4Validator:
        return jsonschema.Draft4Validator(
            {"$ref": f"urn:v2#/definitions/io.atomesh.v1alpha1.{kind}"}, registry=registry
        )

    for kind in ("Agent", "Mesh"):
        examples = _examples(kind)
        assert examples, kind
        for example in examples:
            validator(kind).validate(example)
    with pytest.raises(jsonschema.ValidationError):
        validator("Agent").validate({**_examples("Agent")[0], "spec": {"purpose": 7}})


def test_protobuf_is_refused_by_name(kube_api: RunningKubeAPI) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _get(kube_api, PROTOBUF)
    assert caught.value.code == 406
    status = http_error_status(caught.value)
    assert status["reason"] == "NotAcceptable"
    assert PROTOBUF in status["message"]
    assert _get(kube_api, f"{PROTOBUF}, application/json;q=0.5")["swagger"] == "2.0"


def test_kubectl_explain(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    kube_api.apply_crds()
    assert "KIND:       Agent" in kubectl("explain", "agent.spec").stdout  # OpenAPI v3
    v2 = kubectl("explain", "agent.spec", "--output=plaintext-openapiv2", check=False)
    assert v2.returncode != 0
    assert "NotAcceptable" in v2.stderr
