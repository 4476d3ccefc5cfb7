"""Field validation (`fieldValidation=Strict|Warn|Ignore`) with real clients: kubectl's --validate
(strict by default), the kubernetes python client's `field_validation`, and raw HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from tests.fixtures.kube import REPO, Kubectl, RunningKubeAPI, http_error_status
from tests.integration.kube.kube_helpers import WIDGETS, WIDGETS_CRD, widget

pytestmark = pytest.mark.integration
CRDS = REPO / "crds"
AGENT = yaml.safe_load((REPO / "agents" / "bug-fix.yaml").read_text())
UNKNOWN = 'unknown field "spec.purpos"'


def _agent(name: str, **spec: Any) -> str:
    """bug-fix under another name, with extra (misspelled) spec fields, as YAML."""
    doc = json.loads(json.dumps(AGENT))
    doc["metadata"] = {"name": name}
    doc["spec"].update(spec)
    return yaml.safe_dump(doc)


def _name(kubectl: Kubectl, what: str) -> str:
    return f"{what}-{kubectl.version[0]}-{kubectl.version[1]}"


def _stored_spec(kubectl: Kubectl, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(kubectl("get", "agent", name, "-o", "json").stdout)["spec"]
    return spec


@pytest.mark.parametrize("verb", ["apply", "create"])
def test_kubectl_rejects_a_misspelled_field_by_default(kubectl: Kubectl, verb: str) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = _name(kubectl, f"strict-{verb}")
    result = kubectl(verb, "-f", "-", input=_agent(name, purpos="typo"), check=False)
    assert result.returncode != 0
    assert "Error from server (BadRequest)" in result.stderr
    assert f"strict decoding error: {UNKNOWN}" in result.stderr, result.stderr
    assert kubectl("get", "agent", name, check=False).returncode != 0, "nothing is created"


@pytest.mark.parametrize("verb", ["apply", "create"])
def test_kubectl_validate_warn_writes_and_warns(kubectl: Kubectl, verb: str) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = _name(kubectl, f"warn-{verb}")
    result = kubectl(verb, "--validate=warn", "-f", "-", input=_agent(name, purpos="typo"))
    assert f"Warning: {UNKNOWN}" in result.stderr, result.stderr
    assert "purpos" not in _stored_spec(kubectl, name), "the unknown field is pruned"


@pytest.mark.parametrize("verb", ["apply", "create"])
def test_kubectl_validate_false_writes_silently(kubectl: Kubectl, verb: str) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = _name(kubectl, f"ignore-{verb}")
    result = kubectl(verb, "--validate=false", "-f", "-", input=_agent(name, purpos="typo"))
    assert "Warning" not in result.stderr, result.stderr
    spec = _stored_spec(kubectl, name)
    assert "purpos" not in spec
    assert spec["purpose"] == AGENT["spec"]["purpose"]


def test_kubectl_apply_of_an_existing_object_rejects_a_new_unknown_field(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = _name(kubectl, "update")
    kubectl("apply", "-f", "-", input=_agent(name))
    result = kubectl("apply", "-f", "-", input=_agent(name, purpos="typo", limitz={}), check=False)
    assert result.returncode != 0
    assert f'strict decoding error: unknown field "spec.limitz", {UNKNOWN}' in result.stderr, result.stderr
    warned = kubectl("apply", "--validate=warn", "-f", "-", input=_agent(name, purpos="typo"))
    assert f"Warning: {UNKNOWN}" in warned.stderr
    assert "purpos" not in _stored_spec(kubectl, name)


def test_kubectl_server_side_apply_fails_on_an_unknown_field(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = _name(kubectl, "ssa")
    for validate in ("--validate=strict", "--validate=false"):
        result = kubectl("apply", "--server-side", validate, "-f", "-", input=_agent(name, purpos="x"), check=False)
        assert result.returncode != 0
        assert ".spec.purpos: field not declared in schema" in result.stderr, result.stderr


# HTTP and the python client ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(kube_api: RunningKubeAPI) -> Iterator[client.ApiClient]:
    kube_api.apply(WIDGETS_CRD)
    with config.new_client_from_config(config_file=str(kube_api.kubeconfig)) as api_client:
        yield api_client


def _create_widget(api: client.ApiClient, body: dict[str, Any], **kwargs: Any) -> tuple[Any, int, Any]:
    result: tuple[Any, int, Any] = client.CustomObjectsApi(api).create_namespaced_custom_object_with_http_info(
        "example.com", "v1", "default", "widgets", body, **kwargs
    )
    return result


def test_python_client_strict_rejects_every_unknown_field(api: client.ApiClient) -> None:
    body = {**widget("py-strict"), "spec": {"size": 1, "sise": 2, "colour": "red"}}
    with pytest.raises(ApiException) as bad:
        _create_widget(api, body, field_validation="Strict")
    assert bad.value.status == 400
    status = json.loads(bad.value.body or "null")
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
        'unknown field "spec.sise", unknown field "spec.colour"'
    )


def test_python_client_warn_and_the_default_send_warning_headers(api: client.ApiClient) -> None:
    for name, kwargs in (("py-warn", {"field_validation": "Warn"}), ("py-default", {})):
        body = {**widget(name), "spec": {"size": 1, "sise": 2}, "status": {"conditions": []}}
        created, code, headers = _create_widget(api, body, **kwargs)
        assert code == 201
        assert "sise" not in created["spec"]
        assert headers.get("Warning") == '299 - "unknown field \\"spec.sise\\""', headers
    _, _, headers = _create_widget(api, widget("py-ignore"), field_validation="Ignore")
    assert "Warning" not in headers


def test_python_client_strict_patch_and_status_are_checked_too(api: client.ApiClient) -> None:
    objects = client.CustomObjectsApi(api)
    objects.create_namespaced_custom_object("example.com", "v1", "default", "widgets", widget("py-patch"))
    with pytest.raises(ApiException) as bad:
        objects.patch_namespaced_custom_object(
            "example.com", "v1", "default", "widgets", "py-patch", {"spec": {"sise": 3}}, field_validation="Strict"
        )
    assert bad.value.status == 422
    assert 'strict decoding error: unknown field "spec.sise"' in json.loads(bad.value.body or "null")["message"]
    # known fields pass strict validation, status on the main endpoint included (it is dropped, not unknown)
    patched: Any = objects.patch_namespaced_custom_object(
        "example.com",
        "v1",
        "default",
        "widgets",
        "py-patch",
        {"metadata": {"labels": {"a": "b"}}, "spec": {"size": 3}, "status": {"conditions": []}},
        field_validation="Strict",
    )
    assert patched["spec"]["size"] == 3
    assert "status" not in patched


def _raw(kube_api: RunningKubeAPI, method: str, path: str, data: bytes) -> tuple[int, Any, list[str]]:
    request = urllib.request.Request(
        kube_api.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers.get_all("Warning") or []
    except urllib.error.HTTPError as exc:
        return exc.code, http_error_status(exc), exc.headers.get_all("Warning") or []


def test_duplicate_fields_in_a_json_body(kube_api: RunningKubeAPI, api: client.ApiClient) -> None:
    path = WIDGETS.format(ns="default")
    body = b'{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"dup"},"spec":{"size":1,"size":2}}'
    code, status, _ = _raw(kube_api, "POST", path + "?fieldValidation=Strict", body)
    assert code == 400
    assert status["message"].endswith('strict decoding error: duplicate field "spec.size"')
    code, created, warnings = _raw(kube_api, "POST", path, body)
    assert code == 201
    assert created["spec"]["size"] == 2, "the last value wins"
    assert warnings == ['299 - "duplicate field \\"spec.size\\""']


def test_strict_flags_unknown_metadata_and_top_level_fields_of_builtin_kinds(
    kube_api: RunningKubeAPI,
) -> None:
    # raw HTTP: the python client's models refuse unknown fields before sending them
    body = json.dumps({"metadata": {"name": "cm-strict", "lables": {"a": "b"}}, "dta": {"k": "v"}}).encode()
    path = "/api/v1/namespaces/default/configmaps"
    code, status, _ = _raw(kube_api, "POST", path + "?fieldValidation=Strict", body)
    assert code == 400
    assert status["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "metadata.lables", unknown field "dta"'
    )
    code, created, warnings = _raw(kube_api, "POST", path + "?fieldValidation=Ignore", body)
    assert code == 201
    assert warnings == []
    assert "lables" not in created["metadata"]
    assert "dta" not in created


def test_an_unknown_directive_is_invalid(kube_api: RunningKubeAPI, api: client.ApiClient) -> None:
    body = json.dumps(widget("bad-directive")).encode()
    code, status, _ = _raw(kube_api, "POST", WIDGETS.format(ns="default") + "?fieldValidation=Loose", body)
    assert code == 422
    assert status["message"].startswith('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value')
