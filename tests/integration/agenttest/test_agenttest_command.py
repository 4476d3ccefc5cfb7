"""`atomesh test` end to end: the example agents' cases pass through the runner's real steps and the real
harness CLIs against the emulators; a broken agent, a wrong expectation and a cassette without a turn
fail with reports that name them; recording against a model (the emulator stands in for one) writes
a cassette without the key that replays green."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from tests.fixtures.anthropic import NODE_BIN, REPO_ROOT, StartEmulator

from atomesh import cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENTS = REPO_ROOT / "agents"
SECRET_KEY = "sk-ant-api03-recorded-key-0123456789"


@pytest.fixture(autouse=True)
def harness_clis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def copy_agent(root: Path, agent: str, case: str) -> Path:
    """An agents/ folder in `root` with one example agent, one of its cases and the starting repository."""
    agents = root / "agents"
    (agents / agent / "tests").mkdir(parents=True)
    shutil.copy(AGENTS / f"{agent}.yaml", agents / f"{agent}.yaml")
    shutil.copytree(AGENTS / agent / "tests" / case, agents / agent / "tests" / case)
    shutil.copytree(AGENTS / "testdata", agents / "testdata")
    return agents / agent / "tests" / case


def edit_yaml(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        target = data
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def junit_cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()  # noqa: S314 - our own output
    return {f"{case.get('classname')}/{case.get('name')}": case for case in root.iter("testcase")}


def test_every_example_agent_passes_its_cases(
    claude_cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit.xml"
    code = cli.main(["test", str(AGENTS), "-j", "2", "--output-dir", str(tmp_path / "out"), "--junit-xml", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    agents = sorted(
        path.stem
        for path in AGENTS.glob("*.yaml")
        if any((doc or {}).get("kind") == "Agent" for doc in yaml.safe_load_all(path.read_text()))
    )
    cases = junit_cases(junit)
    assert sorted({name.split("/")[0] for name in cases}) == agents
    assert all(case.find("failure") is None and case.find("error") is None for case in cases.values())
    assert f"{len(cases)} passed, 0 failed in" in out.splitlines()[-1]
    # The verification surface of each run is saved as it was published.
    review = tmp_path / "out" / "bug-fix" / "blank-name" / "claude-code"
    assert (review / "pull-request.md").read_text().startswith("# [atomesh] bug-fix:")
    assert "Labels: atomesh, agent:bug-fix, artifact:code, bug" in (review / "pull-request.md").read_text()
    assert (review / "check-run.md").read_text().startswith("# atomesh/code: success")
    assert "===== publish =====" in (review / "runner.log").read_text()


def test_a_broken_agent_and_a_wrong_expectation_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = copy_agent(tmp_path, "bug-fix", "blank-name")
    agents = case.parents[2]
    # The agent broken: its pull request no longer carries the label its reviewers filter on.
    edit_yaml(agents / "bug-fix.yaml", {"spec.review.labels": ["enhancement"]})
    # An expectation the artifact does not meet.
    edit_yaml(
        case / "case.yaml", {"expect.content": [{"path": "src/sample_app/greeting.py", "contains": ["TypeError"]}]}
    )
    junit = tmp_path / "junit.xml"
    code = cli.main(
        ["test", str(agents), "--harness", "litellm", "--output-dir", str(tmp_path / "out"), "--junit-xml", str(junit)]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert "bug-fix/tests/blank-name [litellm] FAILED" in out
    assert "expect.content[0].contains[0]: 'TypeError' is not in" in out
    assert (
        "expect.pullRequest.labels[0]: 'bug' is missing (labels: atomesh, agent:bug-fix, artifact:code, enhancement)"
        in out
    )
    assert out.splitlines()[-1].strip("= ").startswith("0 passed, 1 failed in")
    failure = junit_cases(junit)["bug-fix/blank-name[litellm]"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("expect.content[0].contains[0]")


def test_a_request_without_a_turn_fails_loudly_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = copy_agent(tmp_path, "release-notes", "fixed-entry")
    cassette = yaml.safe_load((case / "cassette.yaml").read_text())
    (case / "cassette.yaml").write_text(yaml.safe_dump({"turns": cassette["turns"][:1]}))  # only the first turn
    code = cli.main(["test", str(case / "case.yaml"), "--harness", "litellm", "--output-dir", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "release-notes/tests/fixed-entry [litellm] ERROR" in out
    assert "the cassette has no turn for 1 model request(s)" in out
    assert "request 2: POST /v1/messages (harness litellm, 3 message(s)" in out
    assert "-> 400, no turn" in out
    assert "## [Unreleased]" in out  # the request's last message: the changelog the model was shown
    assert "1 error in" in out.splitlines()[-1]


def test_record_then_replay(
    anthropic_emulator: StartEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = copy_agent(tmp_path, "dependency-bump", "pyyaml")
    original = (case / "cassette.yaml").read_text()
    model = anthropic_emulator(case / "cassette.yaml")  # standing in for a real model
    (case / "cassette.yaml").unlink()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET_KEY)
    out_dir = str(tmp_path / "out")
    code = cli.main(["test", "--record", str(case), "--harness", "litellm", "--output-dir", out_dir])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"recorded {case / 'cassette.yaml'} (3 turns)" in out
    recorded = (case / "cassette.yaml").read_text()
    assert SECRET_KEY not in recorded
    assert SECRET_KEY not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert [request.status for request in model.requests] == [200, 200, 200]  # the key reached the model
    turns = yaml.safe_load(recorded)["turns"]
    assert turns[1]["tools"] == yaml.safe_load(original)["turns"][1]["tools"]
    assert all(turn["usage"]["inputTokens"] > 0 for turn in turns)
    # Re-recording (the model stand-in edited: its summary changed) shows what changed.
    source = yaml.safe_load(original)
    source["turns"][2]["text"] = "Upgraded PyYAML to 6.0.2."
    again = anthropic_emulator(source)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", again.url)
    assert cli.main(["test", "--record", str(case), "--harness", "litellm", "--output-dir", out_dir]) == 0
    out = capsys.readouterr().out
    assert f"re-recorded {case / 'cassette.yaml'}; what changed:" in out
    assert "+  - text: Upgraded PyYAML to 6.0.2." in out
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert cli.main(["test", str(case), "--harness", "litellm", "--output-dir", out_dir]) == 0
    assert "1 passed, 0 failed in" in capsys.readouterr().out


def test_record_needs_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert cli.main(["test", "--record", str(AGENTS)]) == 2
    assert "--record needs the model's key in ANTHROPIC_API_KEY" in capsys.readouterr().err


def test_a_case_without_its_cassette_is_an_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = copy_agent(tmp_path, "issue-triage", "blank-name")
    (case / "cassette.yaml").unlink()
    junit = tmp_path / "junit.xml"
    code = cli.main(["test", str(case), "--output-dir", str(tmp_path / "out"), "--junit-xml", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"cassette: {case / 'cassette.yaml'} does not exist; write the model's turns there" in out
    error = junit_cases(junit)["issue-triage/blank-name[claude-code]"].find("error")
    assert error is not None


def test_a_case_file_that_does_not_load_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = copy_agent(tmp_path, "issue-triage", "blank-name")
    edit_yaml(case / "case.yaml", {"expect.verdikt": "success"})
    assert cli.main(["test", str(tmp_path / "agents")]) == 2
    assert "case.yaml: expect.verdikt: Extra inputs are not permitted" in capsys.readouterr().err


def test_compare_runs_the_case_with_both_harnesses_side_by_side(
    claude_cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = copy_agent(tmp_path, "bug-fix", "blank-name")  # the agent's own harness is claude-code
    junit = tmp_path / "junit.xml"
    out_dir = str(tmp_path / "out")
    args = ["test", str(case), "--compare", "litellm", "--output-dir", out_dir, "--junit-xml", str(junit)]
    code = cli.main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    table = out[out.index("comparison with litellm (same cassettes):") :].splitlines()
    header, row, count = table[1], table[2], table[3]
    assert header.split()[:3] == ["case", "baseline", "verdict"]
    cells = row.split()
    assert cells[:8] == [
        "bug-fix/blank-name", "claude-code", "PASSED", "published", "success", "PASSED", "published", "success"
    ]  # fmt: skip
    assert all(cell.startswith("$") for cell in cells[8:10])
    assert all(cell.isdigit() for cell in cells[10:12])
    assert count == "0 regression(s) with litellm in 1 case run(s)"
    assert (tmp_path / "out" / "bug-fix" / "blank-name" / "litellm" / "pull-request.md").is_file()
    cases = junit_cases(junit)
    assert sorted(cases) == ["bug-fix/blank-name[claude-code]", "bug-fix/blank-name[litellm]"]
    properties = {p.get("name"): p.get("value") for p in cases["bug-fix/blank-name[claude-code]"].iter("property")}
    assert properties["atomesh.compare.verdict"] == "PASSED published success"
    assert properties["atomesh.compare.turns"] == cells[11]
    assert properties["atomesh.compare.regression"] == "false"


def test_compare_with_another_model_replays_what_was_recorded_with_it(
    anthropic_emulator: StartEmulator,
    claude_cli: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = copy_agent(tmp_path, "bug-fix", "blank-name")  # claude-code on claude-sonnet-4-6
    out_dir = str(tmp_path / "out")
    # Record with claude-haiku-4-5 (the emulator, playing the case's turns, stands in for a gateway serving it).
    model = anthropic_emulator(case / "cassette.yaml")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET_KEY)
    code = cli.main(["test", "--record", "--model", "claude-haiku-4-5", str(case), "--output-dir", out_dir])
    out = capsys.readouterr().out
    assert code == 0, out
    recording = case / "cassettes" / "claude-haiku-4-5.yaml"
    assert f"recorded {recording} (" in out
    assert {request.body["model"] for request in model.requests if request.body.get("tools")} == {"claude-haiku-4-5"}
    assert SECRET_KEY not in recording.read_text()
    monkeypatch.delenv("ANTHROPIC_API_KEY")

    junit = tmp_path / "junit.xml"
    args = [
        "test",
        str(case),
        "--compare",
        "model=claude-haiku-4-5",
        "--output-dir",
        out_dir,
        "--junit-xml",
        str(junit),
    ]
    code = cli.main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    table = out[out.index("comparison with model=claude-haiku-4-5 (turns recorded with each model):") :].splitlines()
    cells = table[2].split()
    assert cells[:8] == [
        "bug-fix/blank-name", "claude-code", "PASSED", "published", "success", "PASSED", "published", "success"
    ]  # fmt: skip
    sonnet, haiku = (float(cell.removeprefix("$")) for cell in cells[8:10])
    assert 0 < haiku < sonnet  # the same turns at Haiku's price: $1/$5 per Mtok against Sonnet's $3/$15
    assert table[3] == "0 regression(s) with model=claude-haiku-4-5 in 1 case run(s)"
    cases = junit_cases(junit)
    assert sorted(cases) == [
        "bug-fix/blank-name[claude-code model=claude-haiku-4-5]",
        "bug-fix/blank-name[claude-code]",
    ]
    properties = {p.get("name"): p.get("value") for p in cases["bug-fix/blank-name[claude-code]"].iter("property")}
    assert properties["atomesh.compare.model"] == "claude-haiku-4-5"
    assert properties["atomesh.compare.harness"] == "claude-code"


def test_a_model_nothing_was_recorded_with_is_an_error_naming_how_to_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = copy_agent(tmp_path, "bug-fix", "blank-name")
    assert cli.main(["test", str(case), "--model", "claude-opus-4-5", "--output-dir", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "nothing recorded with the model claude-opus-4-5" in out
    assert f"atomesh test --record --model claude-opus-4-5 {case}" in out
    assert "0 passed, 0 failed, 1 error in" in out
