"""Writing a recorded cassette: YAML a person can read and review (multi-line text as blocks),
with every secret of the recording replaced, and the change from the cassette it replaces."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import yaml

from atomesh.devstack.anthropic.cassette import Cassette

REDACTED = "<redacted>"


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists indented under their key, as people write them


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def dump_cassette(cassette: Cassette, header: str, secrets: Iterable[str | None]) -> str:
    data: Any = cassette.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return scrub(comment + body, secrets)


def cassette_diff(old: str, new: str, name: str) -> str:
    """A unified diff of a re-recorded cassette ("" when nothing changed)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"{name} (before)", f"{name} (recorded)"
    )
    return "".join(lines)
