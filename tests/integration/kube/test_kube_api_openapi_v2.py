"""`/openapi/v2`: the document kube-apiserver serves, generated from the served kinds and the CRDs'
schemas, as JSON and as the protobuf that real kubectl decodes (`explain --output=plaintext-openapiv2`)."""

from __future__ import annotations

import json
import re
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

from atomesh.devstack.kube.openapi_v2 import PROTOBUF, PROTOBUF_DEPRECATED

pytestmark = pytest.mark.integration


def _fetch(kube_api: RunningKubeAPI, accept: str) -> tuple[str, bytes]:
    request = urllib.request.Request(kube_api.url + "/openapi/v2", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Content-Type"], response.read()


def _get(kube_api: RunningKubeAPI, accept: str) -> Any:
    content_type, body = _fetch(kube_api, accept)
    assert content_type.startswith("application/json")
    return json.loads(body)


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


def test_media_types(kube_api: RunningKubeAPI) -> None:
    for accept in (PROTOBUF, PROTOBUF_DEPRECATED, f"{PROTOBUF_DEPRECATED}, application/json"):
        content_type, body = _fetch(kube_api, accept)
        assert content_type == PROTOBUF
        assert body.startswith(b"\x0a\x032.0")  # field 1 (swagger), "2.0"
    assert _get(kube_api, "application/yaml, application/json;q=0.5")["swagger"] == "2.0"
    with pytest.raises(urllib.error.HTTPError) as caught:
        _fetch(kube_api, "application/yaml")
    assert caught.value.code == 406
    assert http_error_status(caught.value)["reason"] == "NotAcceptable"


def test_kubectl_explain_reads_both_documents(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    kube_api.apply_crds()
    assert "KIND:       Agent" in kubectl("explain", "agent.spec").stdout  # OpenAPI v3
    v2 = kubectl("explain", "agent.spec.harness", "--output=plaintext-openapiv2").stdout  # protobuf OpenAPI v2
    assert "RESOURCE: harness <Object>" in v2
    assert re.search(r"model\t<string> -required-", v2), v2
    assert "allowedTools\t<[]string>" in v2
