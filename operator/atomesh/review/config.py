"""The config surface: a key-level diff of YAML, JSON and TOML files, and whether they still parse.

Keys are shown as dotted paths (`spec.replicas`); keys that contain dots or spaces are quoted
(`metadata.annotations["atomesh.io/mesh"]`), list items are addressed by their `name` when every
item has a unique one (`spec.containers[name=web].image`, as people think of Kubernetes lists) and by
index otherwise. A multi-document YAML file is keyed by `Kind/namespace/name` when its documents are
Kubernetes objects. Parsing text is not I/O, so it happens here; validators that need schemas or
the network (kubernetes-validate) run in the runner and arrive as Validation records.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from atomesh.review.code import diff_stats_section
from atomesh.review.markdown import bound, cell, code_span, plural, value_cell
from atomesh.review.rendering import (
    Rendering,
    check_failures,
    checks_sections,
    risky_section,
    validation_failures,
    validations_section,
)
from atomesh.review.risk import path_risks
from atomesh.review.surface import ChangedFile, ReviewInput
from atomesh.review.truncation import Section

CONFIG_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".toml"})
KEYS_PER_FILE = 200
# libyaml's safe loader when PyYAML was built with it (10x faster on large files), else the pure one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

Path = tuple[str | int, ...]


class ConfigParseError(ValueError):
    """The text is not valid YAML, JSON or TOML."""


def _load_yaml(text: str) -> list[Any]:
    """YAML documents; libyaml when present (10x faster), the pure loader to explain an error.

    Error messages come from the pure loader only, so a surface reads the same with and without libyaml.
    """
    try:
        return [document for document in yaml.load_all(text, Loader=_LOADER) if document is not None]
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
    return [document for document in yaml.load_all(text, Loader=yaml.SafeLoader) if document is not None]


def parse(path: str, text: str) -> dict[str, Any]:
    """Documents of a config file keyed by a document label ("" for a single plain document)."""
    suffix = PurePosixPath(path).suffix.lower()
    try:
        if suffix == ".json":
            return {"": json.loads(text)}
        if suffix == ".toml":
            return {"": tomllib.loads(text)}
        documents = _load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigParseError(where + (error.problem or error.context or "invalid YAML")) from error
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigParseError(" ".join(str(error).split())) from error
    if len(documents) == 1 and not _is_object(documents[0]):
        return {"": documents[0]}
    return _label_documents(documents)


def _is_object(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("kind"), str)
        and isinstance(document.get("metadata"), dict)
    )


def _label_documents(documents: list[Any]) -> dict[str, Any]:
    labelled: dict[str, Any] = {}
    for index, document in enumerate(documents):
        if _is_object(document):
            metadata = document["metadata"]
            parts = [document["kind"], str(metadata.get("namespace") or ""), str(metadata.get("name") or "")]
            label = "/".join(part for part in parts if part)
        else:
            label = f"document {index + 1}"
        while label in labelled:  # the same object twice: tell them apart by position
            label += f" #{index + 1}"
        labelled[label] = document
    return labelled


def _list_keys(items: list[Any]) -> list[str | int] | None:
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if items and all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
        return [f"name={name}" for name in names]
    return None


def _children(value: dict[Any, Any] | list[Any], keys: list[str | int] | None) -> dict[str | int, Any]:
    if isinstance(value, dict):
        return {str(key): child for key, child in value.items()}
    return dict(zip(keys if keys is not None else range(len(value)), value, strict=True))


def diff_values(old: Any, new: Any, path: Path = ()) -> list[tuple[str, Path, Any, Any]]:
    """(change, path, before, after) for every difference; a subtree present on one side only is one entry."""
    if (isinstance(old, dict) and isinstance(new, dict)) or (isinstance(old, list) and isinstance(new, list)):
        if isinstance(old, list) and isinstance(new, list):
            # Lists of named items (containers, env) are matched by name on both sides, else by index.
            old_keys, new_keys = _list_keys(old), _list_keys(new)
            if old_keys is None or new_keys is None:
                old_keys = new_keys = None
            old_children, new_children = _children(old, old_keys), _children(new, new_keys)
        else:
            old_children, new_children = _children(old, None), _children(new, None)
        changes: list[tuple[str, Path, Any, Any]] = []
        for key in sorted(set(old_children) | set(new_children), key=_part_key):
            child = (*path, key)
            if key not in new_children:
                changes.append(("removed", child, old_children[key], None))
            elif key not in old_children:
                changes.append(("added", child, None, new_children[key]))
            else:
                changes.extend(diff_values(old_children[key], new_children[key], child))
        return changes
    if old != new or type(old) is not type(new):
        return [("changed", path, old, new)]
    return []


def format_path(path: Path) -> str:
    """`spec.containers[name=web].image`, `metadata.annotations["a.b/c"]`, `items[0]`."""
    text = ""
    for part in path:
        if isinstance(part, int) or part.startswith("name="):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += ("." if text else "") + part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or "(root)"


def _part_key(part: str | int) -> tuple[int, int, str]:
    return (1, part, "") if isinstance(part, int) else (0, 0, part)


@dataclass(frozen=True)
class KeyChange:
    """One key that was added, removed or changed."""

    change: str  # added, removed, changed
    path: str
    before: Any = None
    after: Any = None


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[KeyChange]:
    """Key-level differences between two parsed files, document by document, in key order."""
    changes: list[KeyChange] = []
    for label in sorted(set(before) | set(after)):
        prefix = f"{label}: " if label else ""
        if not label:
            # A plain (non-object) document: a new or emptied file still reads key by key.
            empty: dict[str, Any] | None = {} if isinstance(after.get(label, before.get(label)), dict) else None
            old, new = before.get(label, empty), after.get(label, empty)
            changes.extend(KeyChange(c, format_path(p), before=b, after=a) for c, p, b, a in diff_values(old, new))
        elif label not in before:
            changes.append(KeyChange("added", f"{label} (document)", after=after[label]))
        elif label not in after:
            changes.append(KeyChange("removed", f"{label} (document)", before=before[label]))
        else:
            for change, path, old, new in diff_values(before[label], after[label]):
                changes.append(KeyChange(change, prefix + format_path(path), before=old, after=new))
    return changes


@dataclass(frozen=True)
class FileDiff:
    """The outcome for one config file: its key changes, or why it could not be compared."""

    path: str
    changes: tuple[KeyChange, ...] = ()
    error: str | None = None
    note: str | None = None


def is_config(path: str) -> bool:
    """Files this surface understands."""
    return PurePosixPath(path).suffix.lower() in CONFIG_SUFFIXES


def diff_file(changed: ChangedFile) -> FileDiff:
    """Parse before and after; a file that no longer parses is an error, a broken old version is not."""
    if changed.binary:
        return FileDiff(changed.path, note="binary file, not compared")
    if changed.status == "deleted" or changed.after is None:
        return FileDiff(changed.path, note="file deleted")
    try:
        after = parse(changed.path, changed.after)
    except ConfigParseError as error:
        return FileDiff(changed.path, error=bound(str(error), 300))
    try:
        before = parse(changed.previous_path or changed.path, changed.before) if changed.before else {}
    except ConfigParseError:
        return FileDiff(changed.path, changes=tuple(diff({}, after)), note="the old version did not parse")
    return FileDiff(changed.path, changes=tuple(diff(before, after)))


def _shown(value: Any, hide: bool) -> str:
    return "_(hidden: the file looks like a secret)_" if hide else value_cell(value)


_SYMBOL = {"added": "🟢 added", "removed": "🔴 removed", "changed": "🟡 changed"}


def _file_block(result: FileDiff, *, hide_values: bool) -> str:
    head = f"#### {code_span(result.path)}"
    if result.error:
        return f"{head}\n\n❌ **Does not parse:** {cell(result.error, 300)}"
    lines = [head, ""]
    if result.note:
        lines += [f"_{result.note}._", ""]
    if not result.changes:
        lines.append("✅ Parses; no key changed." if not result.note else "")
        return "\n".join(lines).rstrip()
    counts = {kind: sum(1 for change in result.changes if change.change == kind) for kind in _SYMBOL}
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    lines += [f"✅ Parses; {summary}.", "", "| Key | Change | Before | After |", "|---|---|---|---|"]
    for change in result.changes[:KEYS_PER_FILE]:
        before = _shown(change.before, hide_values) if change.change != "added" else ""
        after = _shown(change.after, hide_values) if change.change != "removed" else ""
        lines.append(f"| {code_span(bound(change.path, 120))} | {_SYMBOL[change.change]} | {before} | {after} |")
    hidden = len(result.changes) - KEYS_PER_FILE
    if hidden > 0:
        lines += ["", f"_… {plural(hidden, 'more key')} not shown in this file._"]
    return "\n".join(lines)


def _secret_like(path: str) -> bool:
    return "looks like a secret" in path_risks(path)


def render_config(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """Key-level diff per config file; parse errors, failed validations and failed checks decide the verdict."""
    results = [
        diff_file(changed) for changed in files if is_config(changed.path) or is_config(changed.previous_path or "")
    ]
    others = [
        changed.path for changed in files if not (is_config(changed.path) or is_config(changed.previous_path or ""))
    ]
    rendering = Rendering()
    parsed = sum(1 for result in results if result.error is None and result.note != "file deleted")
    broken = [result for result in results if result.error]
    lead_lines = ["### Key changes", ""]
    if results:
        lead_lines.append(
            f"{plural(len(results), 'config file')}: {parsed} parse"
            + (f", **{len(broken)} do{'es' if len(broken) == 1 else ''} not parse**" if broken else "")
            + "."
        )
    else:
        lead_lines.append("_No YAML, JSON or TOML file changed._")
    if others:
        lead_lines.append(
            f"Not compared by key (not YAML, JSON or TOML): {', '.join(code_span(p) for p in others[:20])}."
        )
    ordered = sorted(results, key=lambda result: (result.error is None, result.path))
    rendering.add(
        Section(
            lead="\n".join(lead_lines),
            items=tuple(_file_block(r, hide_values=_secret_like(r.path)) for r in ordered),
            unit="file",
            joiner="\n\n",
        ),
        in_summary=True,
    )
    rendering.add(validations_section(inp.validations), in_summary=True)
    rendering.add(diff_stats_section(files))
    rendering.add(risky_section(files), in_summary=True)
    for section in checks_sections(inp.checks):
        rendering.add(section, in_summary=True)
    rendering.failures = (
        [f"{result.path} does not parse" for result in broken]
        + validation_failures(inp.validations)
        + check_failures(inp.checks)
    )
    rendering.checked = parsed + len(broken) + len(inp.validations) + len(inp.checks)
    return rendering
