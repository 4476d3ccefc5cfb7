"""YAML documents with the line of every field, so lint can point at the line of a bad field.

PyYAML's composer gives node marks; we build the Python data from the nodes ourselves to keep
`loc -> line` and to catch what kubectl's YAML reading would silently change: duplicate keys and
keys such as `on` or `yes` that YAML 1.1 parsers (kubectl's among them) read as booleans.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from atomesh.core.validation import FieldError, Loc

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass
class Document:
    """One YAML document of a file: its data, the line of each field, and problems found while reading."""

    file: str
    line: int
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[tuple[FieldError, int]] = field(default_factory=list)  # with the line of each

    def line_of(self, loc: Loc) -> int:
        """Line of the field at `loc`, else of its nearest present parent, else of the document."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return self.line


@dataclass(frozen=True)
class ParseError:
    """YAML that does not parse."""

    file: str
    line: int
    message: str


class _Builder:
    """Builds Python data from composed nodes, recording lines and reading problems."""

    def __init__(self, loader: yaml.SafeLoader, document: Document) -> None:
        self.loader = loader
        self.document = document

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, loc)
                child = (*loc, key)
                if key in result:
                    message = f"duplicate key {key!r} (also line {self.document.lines[child]}): keep one"
                    self.document.problems.append((FieldError(child, message), key_node.start_mark.line + 1))
                    continue
                self.document.lines[child] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.document.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*loc, index)))
            return items
        if node.tag == _TIMESTAMP_TAG:
            return node.value  # JSON has no dates; the API server receives the text
        return self.loader.construct_object(node, deep=True)

    def _key(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG and node.style is None:
            message = (
                f"key {node.value} is read as the boolean true/false by YAML 1.1 parsers such as kubectl's; "
                f'quote it: "{node.value}":'
            )
            self.document.problems.append((FieldError((*loc, node.value), message), node.start_mark.line + 1))
            return node.value
        key = self.build(node, loc)
        return key if isinstance(key, str | int) else str(key)


def _read_json(file: str, text: str) -> Document | None:
    lines = text.splitlines()
    comments = next((index for index, line in enumerate(lines) if not line.startswith("#")), len(lines))
    try:
        data = json.loads("\n".join(lines[comments:]))
    except (ValueError, RecursionError):
        return None
    return Document(file=file, line=comments + 1, data=data) if isinstance(data, dict) else None


def read_documents(file: str, text: str) -> tuple[list[Document], ParseError | None]:
    """Every document of a YAML stream that parses; the first parse error, if any, ends the stream."""
    loader = yaml.SafeLoader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            document = Document(file=file, line=node.start_mark.line + 1, data=None)
            document.data = _Builder(loader, document).build(node, ())
            documents.append(document)
    except yaml.MarkedYAMLError as error:
        # The context mark is where the broken construct starts (an unclosed bracket or quote).
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark is not None else 1
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        return documents, ParseError(file, line, f"YAML does not parse: {problem}")
    except yaml.YAMLError as error:
        return documents, ParseError(file, 1, f"YAML does not parse: {error}")
    except RecursionError:
        # PyYAML reads nesting recursively; hundreds of levels exhaust the stack, long before any limit
        # of atomesh's (input: core.validation.MAX_INPUT_DEPTH levels) would accept them. A JSON
        # document (what `kubectl apply` sends) is still read, so its checks can name the field.
        deep = _read_json(file, text)
        if deep is not None:
            return [deep], None
        line = loader.get_mark().line + 1 if loader.get_mark() is not None else 1
        return documents, ParseError(file, line, "YAML nests too deeply to read (hundreds of levels); flatten it")
    finally:
        loader.dispose()
    return documents, None
