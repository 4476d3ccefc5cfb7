"""Malformed CRDs and custom resources never crash the emulator: they are refused as kube-apiserver refuses them.

A seeded random walk over schema keywords and ill-typed values (the same cases on every run). Each
CRD is either refused by decoding (400) or validated into field errors, and every schema that
passes is then used to prune, default and validate random objects.
"""

from __future__ import annotations

import random
from typing import Any

from atomesh.devstack.kube import crd_validation, crds, schema
from atomesh.devstack.kube.errors import ApiError

KEYS = [
    "type",
    "properties",
    "items",
    "additionalProperties",
    "required",
    "enum",
    "default",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "nullable",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "maxLength",
    "minItems",
    "description",
    "$ref",
    "id",
    "dependencies",
    "definitions",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
    "uniqueItems",
]
VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, "", "object", "array", "string", "integer", "map", "set"]
VALUES += ["atomic", "+", "(?=a)", "int32", "date-time", [], ["a"], ["a", "a"], {}, {"a": {}}, [{}], [{"rule": ""}]]
VALUES += [{"type": "object"}]
NAMES = ("a", "b", "metadata", "kind", "apiVersion", "spec")


def random_schema(rng: random.Random, depth: int = 0) -> Any:
    if depth > 3 or rng.random() < 0.2:
        return rng.choice(VALUES)
    result: dict[str, Any] = {}
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(KEYS)
        if key in ("properties", "definitions", "dependencies"):
            result[key] = {rng.choice(NAMES): random_schema(rng, depth + 1) for _ in range(rng.randint(0, 3))}
        elif key in ("allOf", "anyOf", "oneOf"):
            result[key] = [random_schema(rng, depth + 1) for _ in range(rng.randint(0, 2))]
        elif key in ("items", "not", "additionalProperties"):
            result[key] = random_schema(rng, depth + 1)
        else:
            result[key] = rng.choice(VALUES)
    return result


def test_random_crds_are_refused_or_validated_never_crash() -> None:
    rng = random.Random(20250607)
    outcomes = {"decoding": 0, "invalid": 0, "valid": 0}
    for _ in range(1500):
        openapi = random_schema(rng)
        body = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "foos.tests.example.com"},
            "spec": {
                "group": "tests.example.com",
                "scope": "Namespaced",
                "names": {"plural": "foos", "kind": "Foo"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": openapi}}],
            },
        }
        refused = None
        try:
            crds.crd_defaults(body)
        except ApiError as error:
            refused = error.code
        if refused is not None:
            assert refused == 400
            outcomes["decoding"] += 1
            continue
        errors = crd_validation.crd_errors(body)
        assert all(isinstance(e["field"], str) and isinstance(e["message"], str) for e in errors)
        outcomes["invalid" if errors else "valid"] += 1
        if not errors:
            stored = body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            for _ in range(3):
                obj = {"spec": random_schema(rng), "metadata": {"name": "x"}}
                schema.validate(schema.prune_and_default(obj, stored, root=True), stored)
    assert all(count > 0 for count in outcomes.values()), outcomes
