"""Case files: found next to their Agent, loaded with errors that name the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from atomesh.agenttest.case import CaseError, CaseSpec, case_files, load_case
from atomesh.agenttest.runfile import case_run_file
from atomesh.api import constants as k

REPO_ROOT = Path(__file__).resolve().parents[3]
AGENT = """apiVersion: atomesh.io/v1alpha1
kind: Agent
metadata: {name: docs}
spec:
  purpose: Keep the docs friendly.
  instructions: Improve the docs.
  input:
    schema: {type: object, required: [topic], properties: {topic: {type: string}}}
  output: {artifact: doc, paths: ["docs/**"]}
  workspace: {repo: "https://github.com/acme/site.git"}
  harness: {kind: claude-code, model: claude-sonnet-4-6}
"""


def write_case(root: Path, text: str, agent: str = "docs", case: str = "first") -> Path:
    (root / f"{agent}.yaml").write_text(AGENT)
    folder = root / agent / "tests" / case
    folder.mkdir(parents=True)
    (folder / "case.yaml").write_text(text)
    return folder / "case.yaml"


def test_the_example_agents_each_have_cases() -> None:
    cases = [load_case(file) for file in case_files([REPO_ROOT / "agents"])]
    agents = {
        path.stem
        for path in (REPO_ROOT / "agents").glob("*.yaml")
        if any((doc or {}).get("kind") == "Agent" for doc in yaml.safe_load_all(path.read_text()))
    }
    assert {case.agent for case in cases} == agents
    for case in cases:
        assert case.cassette_path.is_file(), case.file
        assert case.repository_path.is_dir(), case.file


def test_the_sample_repository_of_the_cases_is_the_development_stacks() -> None:
    from atomesh.devstack.github import SAMPLE_FILES

    root = REPO_ROOT / "agents" / "testdata" / "sample-app"
    found = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert found == {path: c.encode() if isinstance(c, str) else c for path, c in SAMPLE_FILES.items()}


def test_a_case_finds_its_agent_beside_the_agent_folder_and_defaults(tmp_path: Path) -> None:
    file = write_case(tmp_path, "input: {topic: tone}\n")
    case = load_case(file)
    assert case.agent == "docs"
    assert case.agent_file == tmp_path / "docs.yaml"
    assert case.cassette_path == file.parent / "cassette.yaml"
    assert case.repository_path == file.parent / "repo"
    assert case.harnesses() == ["claude-code"]
    assert case.harnesses("litellm") == ["litellm"]
    assert case_files([tmp_path]) == [file.resolve()]


def test_the_run_file_is_the_operators_with_the_forge_repository_and_chosen_harness(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, "input: {topic: tone}\n"))
    run = case_run_file(case, "litellm")
    assert run.spec.harness.kind == "litellm"
    assert run.spec.workspace.repo == "acme/site"
    assert run.run == "test-first"
    assert run.branch == f"{k.BRANCH_PREFIX}/docs/test-first"
    assert run.trigger.kind == "manual"
    assert run.input == {"topic": "tone"}


def test_an_input_that_does_not_fit_the_agent_names_the_field(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, "input: {topic: 3}\n"))
    with pytest.raises(CaseError, match=r"case.yaml: input.topic: does not match the agent's input schema"):
        case_run_file(case, "litellm")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("expect: {verdikt: success}\n", r"expect.verdikt: Extra inputs are not permitted"),
        ("expect: {reason: PathsNotAllowed}\n", r"set `outcome: failed` \(or paused\) or drop `reason`"),
        ("harnesses: [codex]\n", r"harnesses.0: Input should be 'claude-code', 'opencode' or 'litellm'"),
        ("agent: other\n", r"no Agent named 'other' .* set `agent:` to the Agent's metadata.name"),
        ("input: [\n", r"not valid YAML"),
    ],
)
def test_a_bad_case_file_names_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    file = write_case(tmp_path, text)
    with pytest.raises(CaseError, match=message) as raised:
        load_case(file)
    assert str(file) in str(raised.value)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="no such file or folder"):
        case_files([tmp_path / "nope"])


def test_the_readme_example_is_a_valid_case() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    example = readme.split("```yaml\n# case.yaml\n", 1)[1].split("```", 1)[0]
    spec = CaseSpec.model_validate(yaml.safe_load(example))
    assert spec.expect.verdict == "success"
    assert spec.expect.content[0].matches == r"raise \w+"
