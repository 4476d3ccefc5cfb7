"""Validations of a config artifact: YAML that parses, and Kubernetes manifests that match the
API schemas (kubernetes-validate, strict: unknown fields are errors). Kinds without a bundled
schema (custom resources) are reported as not validated rather than failed."""

from __future__ import annotations

from typing import Any

import yaml

from atomesh.review.surface import ChangedFile, Validation

YAML_SUFFIXES = (".yaml", ".yml")
VALIDATOR = "kubernetes-validate"


def _manifest(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str)


def _check_manifest(doc: dict[str, Any]) -> tuple[bool, str | None]:
    """(valid, message): a one-line problem with the field path, or a note that no schema was found."""
    import kubernetes_validate  # heavy: loaded only for config artifacts

    label = f"{doc['kind']} {(doc.get('metadata') or {}).get('name', '')}".strip()
    try:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return True, f"{label}: no bundled schema for this kind; not validated"  # a custom resource
    except kubernetes_validate.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return False, f"{label}: {where}: {error.message}"
    return True, None


def validate_file(changed: ChangedFile) -> Validation | None:
    if changed.after is None or not changed.path.endswith(YAML_SUFFIXES):
        return None
    try:
        docs = list(yaml.safe_load_all(changed.after))
    except yaml.YAMLError as error:
        return Validation(changed.path, "yaml", False, (" ".join(str(error).split())[:300],))
    manifests = [doc for doc in docs if _manifest(doc)]
    if not manifests:
        return Validation(changed.path, "yaml", True)
    results = [_check_manifest(doc) for doc in manifests]
    messages = tuple(message for _, message in results if message)
    return Validation(changed.path, VALIDATOR, all(valid for valid, _ in results), messages)


def validate_config(files: tuple[ChangedFile, ...]) -> tuple[Validation, ...]:
    return tuple(found for changed in files if (found := validate_file(changed)) is not None)
