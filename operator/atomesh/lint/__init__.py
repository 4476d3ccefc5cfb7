"""Offline validation of atomesh manifests: what `atomesh lint` and an agent repository's CI run."""

from atomesh.lint.checker import Finding, lint_paths, lint_texts, manifest_files

__all__ = ["Finding", "lint_paths", "lint_texts", "manifest_files"]
