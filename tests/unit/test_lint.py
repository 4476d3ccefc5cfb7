"""`atomesh lint`: the corpus of invalid manifests, valid ones, exit codes and cross-document checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atomesh import cli
from atomesh.lint import Finding, lint_paths, lint_texts, manifest_files

CORPUS = Path(__file__).resolve().parent.parent / "lint_corpus"
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?:(?P<obj>[^:\s]+/[^:\s]*): (?P<path>[^:\s]+): )?(?P<message>.+)$")
MARKER = "# <-"

AGENT = """\
apiVersion: atomesh.io/v1alpha1
kind: Agent
metadata:
  name: {name}
  {namespace}
spec:
  purpose: p
  instructions: i
  input:
    schema: {{type: object, required: [issue], properties: {{issue: {{type: integer}}}}}}
  output: {{artifact: code}}
  workspace: {{repo: demo/sample-app}}
  harness: {{model: m}}
"""
RUN = """\
apiVersion: atomesh.io/v1alpha1
kind: AgentRun
metadata:
  name: run-1
  {namespace}
spec:
  agentRef: {{name: {name}}}
  input: {{issue: nope}}
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = cli.main(["lint", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 30
    assert len(VALID) >= 3


@pytest.mark.parametrize("manifest", INVALID, ids=lambda path: path.stem)
def test_invalid_manifest_is_reported_on_its_line(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = manifest.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# expect: "), "a corpus file starts with '# expect: <field path>'"
    expected = lines[0].removeprefix("# expect: ").strip()
    marked = [number for number, text in enumerate(lines, start=1) if text.rstrip().endswith(MARKER)]
    assert len(marked) == 1, f"{manifest.name}: mark the offending line with '{MARKER}'"

    code, output, _ = run_cli(capsys, str(manifest))

    assert code == 1
    parsed = [LINE.match(line) for line in output]
    assert all(parsed), output
    reported = {(m["path"] or "<yaml>", int(m["line"])) for m in parsed if m}
    assert (expected, marked[0]) in reported, output
    assert all(m["file"] == str(manifest) for m in parsed if m)


@pytest.mark.parametrize("manifest", VALID, ids=lambda path: path.stem)
def test_valid_manifest_passes(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, _ = run_cli(capsys, str(manifest))
    assert (code, output) == (0, [])


def test_folder_is_linted_recursively_skipping_hidden_folders(tmp_path: Path) -> None:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    bad = "apiVersion: atomesh.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nspec: {agents: []}\n"
    (tmp_path / "nested" / "deeper" / "mesh.yml").write_text(bad)
    (tmp_path / ".hidden" / "mesh.yaml").write_text(bad)
    (tmp_path / "notes.txt").write_text(bad)

    findings = lint_paths([tmp_path])

    assert [(Path(f.file).name, f.path) for f in findings] == [("mesh.yml", "spec.agents")]
    assert manifest_files([tmp_path]) == [tmp_path / "nested" / "deeper" / "mesh.yml"]


def test_folder_walk_skips_helm_templates(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    template = chart / "templates" / "agent.yaml"
    template.write_text("apiVersion: atomesh.io/v1alpha1\nkind: Agent\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n")
    assert manifest_files([tmp_path]) == [chart / "Chart.yaml"]
    assert lint_paths([tmp_path]) == []
    assert [f.message.split(":")[0] for f in lint_paths([template])] == ["YAML does not parse"]


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, err = run_cli(capsys, str(tmp_path / "absent.yaml"))
    assert (code, output) == (2, [])
    assert "absent.yaml: no such file or folder" in err


def test_summary_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, output, err = run_cli(capsys, str(CORPUS / "invalid" / "mesh-cycle.yaml"))
    assert code == 1
    assert len(output) > 1  # the cycle, and the Agents the mesh names but the lint was not given
    assert f"{len(output)} error(s) in 1 file(s)" in err


def test_run_input_is_checked_against_an_agent_in_another_file() -> None:
    agent = AGENT.format(name="bug-fix", namespace="")
    run = RUN.format(name="bug-fix", namespace="")
    findings = lint_texts([("agent.yaml", agent), ("run.yaml", run)])
    assert [(f.file, f.line, f.path) for f in findings] == [("run.yaml", 8, "spec.input.issue")]
    assert "'nope' is not of type 'integer'" in findings[0].message


def test_run_input_is_not_checked_against_an_agent_of_another_namespace() -> None:
    agent = AGENT.format(name="bug-fix", namespace="namespace: team-a")
    run = RUN.format(name="bug-fix", namespace="namespace: team-b")
    findings = lint_texts([("all.yaml", agent + "---\n" + run)])
    assert [f.path for f in findings] == ["spec.agentRef.name"]
    assert "no Agent 'bug-fix' in the files linted" in findings[0].message


def test_a_lone_run_or_mesh_is_told_to_lint_its_agents_with_it() -> None:
    run = RUN.format(name="bug-fix", namespace="")
    mesh = """\
apiVersion: atomesh.io/v1alpha1
kind: Mesh
metadata: {name: m}
spec:
  agents: [{name: a, agentRef: {name: bug-fix}}, {name: b, agentRef: {name: other}}]
  edges: [{from: a, to: b}]
"""
    findings = lint_texts([("run.yaml", run), ("mesh.yaml", mesh)])
    assert [(f.file, f.path) for f in findings] == [
        ("mesh.yaml", "spec.agents[0].agentRef.name"),
        ("mesh.yaml", "spec.agents[1].agentRef.name"),
        ("run.yaml", "spec.agentRef.name"),
    ]
    assert all("lint its manifest together with this one" in f.message for f in findings)


def test_mesh_edge_inputs_are_checked_against_the_downstream_agent() -> None:
    agent = AGENT.format(name="bug-fix", namespace="").replace(
        "properties: {issue", "additionalProperties: false, properties: {issue"
    )
    mesh = """\
apiVersion: atomesh.io/v1alpha1
kind: Mesh
metadata: {name: m}
spec:
  agents: [{name: a, agentRef: {name: bug-fix}}, {name: b, agentRef: {name: bug-fix}}]
  edges:
    - {from: a, to: b, input: {issue: "not a number", title: "${upstream.review.url}"}}
"""
    findings = lint_texts([("agent.yaml", agent), ("mesh.yaml", mesh)])
    assert [(f.file, f.path) for f in findings] == [
        ("mesh.yaml", "spec.edges[0].input.issue"),
        ("mesh.yaml", "spec.edges[0].input.title"),
    ]
    assert "'not a number' is not of type 'integer'" in findings[0].message
    assert "takes no input 'title'; it takes: issue" in findings[1].message


def test_the_same_object_twice_in_a_file_is_reported_with_the_first_line() -> None:
    agent = AGENT.format(name="bug-fix", namespace="")
    findings = lint_texts([("a.yaml", agent + "---\n" + agent)])
    assert [(f.line, f.path) for f in findings] == [(18, "metadata.name")]
    assert "also line 1" in findings[0].message
    # Across files the same name is usual (overlays, environments).
    assert lint_texts([("a.yaml", agent), ("b.yaml", agent)]) == []


def test_every_problem_of_one_object_is_reported() -> None:
    text = AGENT.format(name="Bad", namespace="").replace("harness: {model: m}", "harness: {model: m, maxTurns: 0}")
    text += "  triggers: {schedule: nonsense, timezone: Nowhere/Land}\n"
    paths = [f.path for f in lint_texts([("a.yaml", text)])]
    assert paths == [
        "metadata.name",
        "spec.harness.maxTurns",
        "spec.triggers.schedule",
        "spec.triggers.timezone",
    ]


def test_documents_before_a_parse_error_are_still_linted() -> None:
    text = "apiVersion: atomesh.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nspec: {agents: []}\n---\nkey: 'open\n"
    findings = lint_texts([("a.yaml", text)])
    assert [(f.line, f.path) for f in findings] == [(4, "spec.agents"), (6, "")]
    assert findings[1].message.startswith("YAML does not parse")


def test_finding_format() -> None:
    finding = Finding("agents/x.yaml", 7, "Agent/x", "spec.harness.maxTurns", "600 is out of range")
    assert str(finding) == "agents/x.yaml:7: Agent/x: spec.harness.maxTurns: 600 is out of range"
    assert str(Finding("a.yaml", 3, "", "", "YAML does not parse: x")) == "a.yaml:3: YAML does not parse: x"


def test_empty_and_non_mapping_documents_are_skipped() -> None:
    assert lint_texts([("a.yaml", "---\n---\n- a list\n---\njust text\n")]) == []
