"""The hostile-input corpus (tests/hostile_corpus): every manifest gets an answer naming the field, from
`atomesh lint` and from the operator's own checks (Agent validation, run admission, mesh graph), and
neither raises. Each file says what it tries (`# hostile:`) and which field the answer must name
(`# expect:`); `# lint: host-unknown` marks a repository URL only the operator's allowlist refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.mesh import Mesh
from atomesh.core.admission import admit_run
from atomesh.core.config import OperatorConfig
from atomesh.core.meshcheck import graph_problems
from atomesh.core.revision import describe_validation_error
from atomesh.core.validation import validate_agent_spec
from atomesh.lint import lint_texts

CORPUS = Path(__file__).resolve().parents[1] / "hostile_corpus"
CASES = sorted(CORPUS.glob("*.yaml"))
HOSTS = OperatorConfig().allowed_repository_hosts()
READY = {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}], "specHash": "abc", "revision": "x"}
PLAIN_AGENT: dict[str, Any] = {
    "metadata": {"name": "hostile", "namespace": "team", "generation": 1},
    "spec": {
        "purpose": "p",
        "instructions": "i",
        "output": {"artifact": "doc"},
        "workspace": {"repo": "acme/site"},
        "harness": {"model": "claude-sonnet-4-5"},
    },
    "status": READY,
}


def header(path: Path, key: str) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            return None
        name, _, value = line[1:].strip().partition(":")
        if name == key:
            return value.strip()
    return None


def documents(path: Path) -> list[dict[str, Any]]:
    body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    if body.lstrip().startswith("{"):  # JSON documents, too deep for PyYAML
        return [json.loads(part) for part in body.split("\n---\n") if part.strip()]
    return [doc for doc in yaml.safe_load_all(body) if doc]


def operator_answers(docs: list[dict[str, Any]]) -> list[str]:
    """What the operator would write into conditions for these objects, as `field: message`."""
    answers: list[str] = []
    agents: dict[str, Agent] = {}
    for doc in (d for d in docs if d.get("kind") == "Agent"):
        try:
            agent = Agent.model_validate({**doc, "status": READY})
        except ValidationError as exc:
            answers.append(describe_validation_error(exc))
            continue
        errors = validate_agent_spec(agent.spec, HOSTS)
        answers += [f"{error.path}: {error.message}" for error in errors]
        if not errors:
            agents[agent.metadata.name] = agent
    for doc in (d for d in docs if d.get("kind") == "Mesh"):
        try:
            mesh = Mesh.model_validate(doc)
        except ValidationError as exc:
            answers.append(describe_validation_error(exc))
            continue
        answers += graph_problems(mesh.spec, agents)
    for doc in (d for d in docs if d.get("kind") == "AgentRun"):
        try:
            run = AgentRun.model_validate(doc)
        except ValidationError as exc:
            answers.append(describe_validation_error(exc))
            continue
        in_file = any(d.get("kind") == "Agent" for d in docs)
        agent = agents.get(run.spec.agent_ref.name) if in_file else Agent.model_validate(PLAIN_AGENT)
        if agent is None:
            continue  # its Agent is invalid and never Ready: answered above
        admission = admit_run(run, agent)
        if admission.verdict == "fail":
            assert admission.reason == c.INVALID_INPUT
            answers.append(admission.message)
    return answers


def test_the_corpus_is_large_and_every_case_says_what_it_expects() -> None:
    assert len(CASES) >= 60
    for path in CASES:
        assert header(path, "hostile"), f"{path.name}: no '# hostile:' line"
        assert header(path, "expect"), f"{path.name}: no '# expect:' line"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_lint_names_the_field(path: Path) -> None:
    findings = lint_texts([(path.name, path.read_text(encoding="utf-8"))])
    expect = header(path, "expect") or ""
    if (header(path, "lint") or "").startswith("host-unknown"):
        assert all(expect not in f.path for f in findings)  # lint knows no allowlist; the operator answers
        return
    assert any(f.path.startswith(expect) or expect in f.message for f in findings), [str(f) for f in findings]


@pytest.mark.parametrize(
    "path", [p for p in CASES if (header(p, "expect") or "").startswith("spec.")], ids=lambda p: p.stem
)
def test_the_operator_names_the_field(path: Path) -> None:
    expect = header(path, "expect") or ""
    answers = operator_answers(documents(path))
    assert any(expect in answer for answer in answers), answers
    assert all(len(answer) < 4096 for answer in answers), "an answer too long for a condition message"


def test_linting_the_whole_corpus_at_once_answers_every_file() -> None:
    """As `atomesh lint tests/hostile_corpus/` does: names are distinct, so no case hides another."""
    findings = lint_texts((path.name, path.read_text(encoding="utf-8")) for path in CASES)
    silent = {
        path.name
        for path in CASES
        if not (header(path, "lint") or "").startswith("host-unknown")
        and not any(f.file == path.name for f in findings)
    }
    assert silent == set()
