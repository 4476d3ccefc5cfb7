"""Building CRDs for the CRD validation tests, and reading their errors as kube-apiserver prints them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from atomesh.devstack.kube import crd_validation
from atomesh.devstack.kube.field_errors import text

REPO = Path(__file__).resolve().parents[3]
Obj = dict[str, Any]


def crd(schema: Obj | None = None, *, versions: int = 1, **spec: Any) -> Obj:
    body: Obj = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "foos.tests.example.com"},
        "spec": {
            "group": "tests.example.com",
            "scope": "Namespaced",
            "names": {"plural": "foos", "singular": "foo", "kind": "Foo", "listKind": "FooList"},
            "versions": [
                {
                    "name": f"v{i + 1}",
                    "served": True,
                    "storage": i == 0,
                    "schema": {"openAPIV3Schema": copy.deepcopy(schema if schema is not None else {"type": "object"})},
                }
                for i in range(versions)
            ],
            **spec,
        },
    }
    return body


def errors(body: Obj, old: Obj | None = None) -> list[str]:
    return [text(c) for c in crd_validation.crd_errors(body, old)]


def assert_errors(body: Obj, expected: list[str], unexpected: tuple[str, ...] = (), old: Obj | None = None) -> None:
    found = errors(body, old)
    blob = "\n".join(found)
    assert [e for e in expected if e not in blob] == [], found
    assert [u for u in unexpected if u in blob] == [], found
    assert bool(found) == bool(expected), found
