"""An agent test case: `<agents>/<agent>/tests/<case>/case.yaml`, next to the Agent it tests.

    description: Fixes the blank-name bug with a regression test.
    agent: bug-fix                      # default: the folder above tests/
    input: {issue: 1}                   # the run input, checked against the agent's input schema
    repository: ../../../testdata/sample-app   # a folder or a git bundle (default: repo/ or repo.bundle)
    cassette: cassette.yaml             # the model's turns (default), in the scripted-cassette format
                                        # (cassettes/<model>.yaml: turns recorded with another model)
    harnesses: [litellm, claude-code]   # default: the agent's own spec.harness.kind
    expect:
      outcome: published                # published (default), noChanges, failed or paused (at a hard limit)
      reason: PathsNotAllowed           # the run's status reason, for a failed or paused run
      files: {changed: [src/**], only: [src/**, tests/**]}
      content: [{path: src/app.py, contains: [ValueError], notContains: [TODO], matches: 'raise \\w+'}]
      verdict: success                  # the verification check run's conclusion
      checks: {tests: passed}
      maxCostUSD: 0.5
      maxTurns: 10
      pullRequest: {title: {contains: fix}, labels: [bug]}

None of these files is a Kubernetes object (no apiVersion), so `kubectl apply -f agents/` (not
recursive) and `atomesh lint agents/` (which skips YAML that is not an atomesh object) both leave
them alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

CASE_FILE = "case.yaml"
TESTS_DIR = "tests"
DEFAULT_CASSETTE = "cassette.yaml"
MODEL_CASSETTES_DIR = "cassettes"  # cassettes/<model>.yaml: the turns recorded with another model
DEFAULT_REPOSITORIES = ("repo", "repo.bundle")
HARNESS_KINDS = ("claude-code", "opencode", "litellm")

Outcome = Literal["published", "noChanges", "failed", "paused"]
CheckState = Literal["passed", "failed"]
Verdict = Literal["success", "failure", "neutral", "action_required", "cancelled", "skipped", "timed_out"]


class CaseError(Exception):
    """A case file that cannot be used; the message names the file, the field and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class TextMatch(_Model):
    """Conditions on a text; all given ones must hold."""

    equals: str | None = None
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    matches: str | None = None  # a Python regular expression, searched anywhere in the text


class ContentExpectation(TextMatch):
    """A file of the artifact: its content after the run, or that it was deleted."""

    path: str = Field(min_length=1)
    deleted: bool = False


class FilesExpectation(_Model):
    changed: list[str] = Field(default_factory=list)  # every glob matches at least one changed file
    only: list[str] | None = None  # every changed file matches one of these globs
    unchanged: list[str] = Field(default_factory=list)  # no changed file matches these globs


class PullRequestExpectation(_Model):
    title: TextMatch | None = None
    labels: list[str] = Field(default_factory=list)  # each is on the pull request
    body: TextMatch | None = None


class Expectations(_Model):
    outcome: Outcome = "published"
    reason: str | None = None
    message: TextMatch | None = None  # the run's one-line outcome message
    files: FilesExpectation | None = None
    content: list[ContentExpectation] = Field(default_factory=list)
    verdict: Verdict | None = None
    checks: dict[str, CheckState] = Field(default_factory=dict)
    max_cost_usd: float | None = Field(default=None, alias="maxCostUSD", ge=0)
    max_turns: int | None = Field(default=None, ge=0)
    min_turns: int | None = Field(default=None, ge=0)
    pull_request: PullRequestExpectation | None = None

    @model_validator(mode="after")
    def _reason_only_when_failed(self) -> Expectations:
        if self.reason is not None and self.outcome not in ("failed", "paused"):
            raise ValueError(
                "`reason` is the reason of a failed or paused run: set `outcome: failed` (or paused) or drop `reason`"
            )
        return self


class CaseSpec(_Model):
    """What a case file says (paths still relative to it)."""

    description: str = ""
    agent: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    repository: str | None = None
    cassette: str = DEFAULT_CASSETTE
    harnesses: list[Literal["claude-code", "opencode", "litellm"]] = Field(default_factory=list)
    expect: Expectations = Field(default_factory=Expectations)


class TestCase:
    """A loaded case: its spec, where it lives, and its files resolved."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, file: Path, spec: CaseSpec, agent_manifest: dict[str, Any], agent_file: Path) -> None:
        self.file = file
        self.spec = spec
        self.agent_manifest = agent_manifest
        self.agent_file = agent_file

    @property
    def folder(self) -> Path:
        return self.file.parent

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def agent(self) -> str:
        return str(self.agent_manifest["metadata"]["name"])

    @property
    def cassette_path(self) -> Path:
        return (self.folder / self.spec.cassette).resolve()

    def cassette_for(self, model: str | None) -> Path:
        """The agent's own model plays `cassette`; another model plays what was recorded with it."""
        if model is None:
            return self.cassette_path
        return (self.folder / MODEL_CASSETTES_DIR / f"{model_file_stem(model)}.yaml").resolve()

    @property
    def repository_path(self) -> Path:
        if self.spec.repository is not None:
            return (self.folder / self.spec.repository).resolve()
        for candidate in DEFAULT_REPOSITORIES:
            if (self.folder / candidate).exists():
                return (self.folder / candidate).resolve()
        return (self.folder / DEFAULT_REPOSITORIES[0]).resolve()

    def harnesses(self, override: str | None = None) -> list[str]:
        if override:
            return [override]
        return list(self.spec.harnesses) or [str(self.agent_manifest["spec"]["harness"]["kind"])]


def model_file_stem(model: str) -> str:
    """A model name as a file name: `anthropic/claude-haiku-4-5` -> `anthropic_claude-haiku-4-5`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", model).strip(".") or "_"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _agents_in(folder: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Agents of the YAML files directly in `folder` (not recursive, like `kubectl apply -f`)."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            continue  # not ours to report: `atomesh lint` does
        for doc in documents:
            if isinstance(doc, dict) and doc.get("kind") == "Agent" and isinstance(doc.get("metadata"), dict):
                found.setdefault(str(doc["metadata"].get("name")), (path, doc))
    return found


def find_agent(case_file: Path, name: str | None) -> tuple[Path, dict[str, Any]]:
    """The Agent a case tests: by name (default: the folder above tests/), in that folder or beside it."""
    case_dir = case_file.parent
    tests_dir = case_dir.parent
    agent_dir = tests_dir.parent
    wanted = name or agent_dir.name
    looked: list[Path] = []
    for folder in (agent_dir, agent_dir.parent):
        agents = _agents_in(folder)
        looked.append(folder)
        if wanted in agents:
            return agents[wanted]
    where = " and ".join(str(folder) for folder in looked)
    raise CaseError(
        f"{case_file}: no Agent named {wanted!r} in the YAML files of {where}; "
        "set `agent:` to the Agent's metadata.name or move the case to <agents>/<agent>/tests/<case>/"
    )


def load_case(file: Path) -> TestCase:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise CaseError(f"{file}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CaseError(f"{file}: not valid YAML: {error}") from None
    try:
        spec = CaseSpec.model_validate(data or {})
    except ValidationError as error:
        raise CaseError(f"{file}: {_describe(error)}") from None
    agent_file, manifest = find_agent(file, spec.agent)
    return TestCase(file.resolve(), spec, manifest, agent_file)


def case_files(paths: list[Path]) -> list[Path]:
    """Case files named, or found under folders (hidden folders skipped), in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(
                found
                for found in path.rglob(CASE_FILE)
                if found.parent.parent.name == TESTS_DIR
                and not any(part.startswith(".") for part in found.relative_to(path).parts)
            )
        else:
            raise CaseError(f"{path}: no such file or folder")
    return list(dict.fromkeys(file.resolve() for file in files))
