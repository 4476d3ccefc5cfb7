"""The run file of a case: the Agent as written (with the harness chosen for this run), the case's
input, made through the one AgentRun factory and the operator's own run-file builder."""

from __future__ import annotations

from pydantic import ValidationError

from atomesh.agenttest.case import CaseError, TestCase
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun, AgentSnapshot
from atomesh.api.runfile import RunFile
from atomesh.core.hashing import spec_hash
from atomesh.core.pod import build_run_file
from atomesh.core.revision import describe_validation_error, revision_of
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.core.validation import check_input, validate_agent_spec
from atomesh.runner.publish import forge_repo

TEST_NAMESPACE = "default"
TRIGGER_SOURCE = "atomesh test"


def case_run_file(case: TestCase, harness: str, model: str | None = None) -> RunFile:
    """The RunFile the operator would write for this case's run (with `model` in place of the Agent's own
    when given); CaseError names what does not fit."""
    where = f"{case.file}: the Agent {case.agent} ({case.agent_file})"
    try:
        agent = Agent.model_validate(case.agent_manifest)
    except ValidationError as error:
        raise CaseError(f"{where} is not valid: {describe_validation_error(error)}; run `atomesh lint`") from None
    spec = agent.spec
    if spec.source is not None:
        raise CaseError(
            f"{where} reads its instructions from spec.source, which atomesh test does not check out yet; "
            "test it with inline spec.instructions"
        )
    harness_spec = spec.harness.model_copy(update={"kind": harness, "model": model or spec.harness.model})
    # The forge of the test is local: the repository is named owner/name there, whatever URL the Agent uses.
    workspace = spec.workspace.model_copy(update={"repo": forge_repo(spec.workspace.repo)})
    spec = spec.model_copy(update={"harness": harness_spec, "workspace": workspace})
    problems = validate_agent_spec(spec) + check_input(case.spec.input, spec.input.json_schema, ("input",))
    if problems:
        raise CaseError(f"{case.file}: " + "; ".join(f"{p.path}: {p.message}" for p in problems))
    hash_ = spec_hash(spec)
    manifest = build_run(
        RunRequest(
            name=run_name(f"test-{case.name}"),
            agent=case.agent,
            trigger="manual",
            source=TRIGGER_SOURCE,
            namespace=agent.metadata.namespace or TEST_NAMESPACE,
            input=case.spec.input,
        )
    )
    run = AgentRun.model_validate(manifest)
    snapshot = AgentSnapshot(name=case.agent, revision=revision_of(spec, None, hash_), spec_hash=hash_, spec=spec)
    return build_run_file(run, snapshot)
