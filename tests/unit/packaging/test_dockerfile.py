"""Static checks of the Dockerfile: it cannot be built on these machines, so what a build
would guarantee — pinned inputs, a non-root user, the right entrypoint, no secrets — is
checked here from the text."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()

EXACT_VERSION = re.compile(r"^\d+(\.\d+)+([.-][0-9A-Za-z.]+)?$")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|sk-ant-|sk-[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|BEGIN .*PRIVATE KEY"
)
OCI_LABELS = ("title", "description", "version", "revision", "created", "source", "licenses")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    stage: int


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped; stage counts FROMs."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, value = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, value.strip(), stage))
    return instructions


INSTRUCTIONS = parse(DOCKERFILE.read_text())
FINAL_STAGE = max(i.stage for i in INSTRUCTIONS)


def final(keyword: str) -> list[Instruction]:
    return [i for i in INSTRUCTIONS if i.keyword == keyword and i.stage == FINAL_STAGE]


def run_words() -> list[list[str]]:
    """Each shell command of every RUN (split on && and ;), as words."""
    commands = []
    for instruction in INSTRUCTIONS:
        if instruction.keyword != "RUN":
            continue
        script = re.sub(r"^(--\S+\s+)+", "", instruction.value)
        for command in re.split(r"&&|;", script):
            words = shlex.split(command)
            if words:
                commands.append(words)
    return commands


def build_args() -> dict[str, str]:
    args = {}
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "ARG" and "=" in instruction.value:
            name, _, default = instruction.value.partition("=")
            args[name] = default
    return args


def expand(text: str) -> str:
    args = build_args()
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def test_multi_stage_with_every_base_image_pinned() -> None:
    bases = [i.value.split()[0] for i in INSTRUCTIONS if i.keyword == "FROM"]
    assert len(bases) >= 2, "the image is built in stages: a builder, then a slim runtime"
    stage_names = {i.value.split()[-1] for i in INSTRUCTIONS if i.keyword == "FROM" and " AS " in i.value.upper()}
    for base in bases:
        if base in stage_names:
            continue
        _, _, tag = expand(base).partition(":")
        assert "@sha256:" in base or re.match(r"^\d+\.\d+\.\d+", tag), f"FROM {base}: pin a full version tag"
    runtime_base = next(i.value for i in INSTRUCTIONS if i.keyword == "FROM" and i.stage == FINAL_STAGE)
    assert runtime_base.startswith("python:3.11."), "the runtime stage is python:3.11 (the project's Python)"
    assert "slim" in runtime_base


def test_runs_as_a_numeric_non_root_user() -> None:
    users = final("USER")
    assert users, "the final stage sets USER"
    user = users[-1].value.split(":")[0]
    assert user.isdigit(), "USER must be numeric, so runAsNonRoot can check it"
    assert int(user) != 0


def test_entrypoint_is_the_console_script_with_operator_as_default_command() -> None:
    scripts = PYPROJECT["project"]["scripts"]
    (entrypoint,) = final("ENTRYPOINT")
    (cmd,) = final("CMD")
    assert json.loads(entrypoint.value) == ["atomesh"]
    assert scripts["atomesh"] == "atomesh.cli:main"
    assert json.loads(cmd.value) == ["operator"]


def test_both_entrypoints_are_cli_commands() -> None:
    from atomesh.cli import COMMANDS

    assert {"operator", "runner"} <= set(COMMANDS)


def test_npm_installs_come_from_the_lock_file() -> None:
    """The image installs the harness CLIs from package-lock.json without rewriting it, as `make harnesses` does."""
    npm = [words for words in run_words() if words[:1] == ["npm"] and words[1:2] != ["cache"]]
    assert npm, "the harness CLIs are installed with npm"
    assert all(words[1] == "install" and "--no-save" in words and "--omit=dev" in words for words in npm), (
        "npm install --no-save --omit=dev: versions from the lock, the lock left as it is"
    )
    copied = " ".join(i.value for i in final("COPY"))
    assert "package.json" in copied
    assert "package-lock.json" in copied
    harnesses = re.search(r"^\tnpm install --no-save\b", MAKEFILE, re.MULTILINE)
    assert harnesses, "make harnesses installs from the same lock"
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in manifest["dependencies"].items():
        assert EXACT_VERSION.match(version), f"package.json {name}: pin an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, f"package-lock.json is stale for {name}"
    assert set(manifest["dependencies"]) == {"@anthropic-ai/claude-code", "opencode-ai"}


def test_pip_installs_are_locked() -> None:
    """Dependencies come from requirements/runtime.txt with hashes; the atomesh wheel alone is built here."""
    installs = [words for words in run_words() if words[:1] == ["pip"] and words[1:2] in (["install"], ["wheel"])]
    assert installs
    locked = [words for words in installs if "-r" in words]
    assert locked, "dependencies are installed from the lock"
    assert all("--require-hashes" in words for words in locked), "the lock's hashes are checked"
    assert words_after(locked[0], "-r") == "requirements/runtime.txt"
    for words in installs:
        if "-r" not in words:
            assert "--no-deps" in words, f"{' '.join(words)}: without the lock, install nothing but the named wheels"
    lock = (ROOT / "requirements" / "runtime.txt").read_text()
    assert re.search(r"^kopf==\S+ \\\n\s+--hash=sha256:", lock, re.MULTILINE), "the lock pins versions with hashes"
    version = build_args()["ATOMESH_VERSION"]
    assert version == PYPROJECT["project"]["version"], "ATOMESH_VERSION is the pyproject version"


def words_after(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]


def test_oci_labels() -> None:
    labels = " ".join(i.value for i in final("LABEL"))
    found = dict(re.findall(r"org\.opencontainers\.image\.(\w+)=\"([^\"]*)\"", labels))
    missing = [name for name in OCI_LABELS if name not in found]
    assert not missing, f"add LABEL org.opencontainers.image.{missing}"
    assert found["licenses"] == PYPROJECT["project"]["license"]
    assert expand(found["version"]) == PYPROJECT["project"]["version"]


def test_no_secrets_in_the_image_definition() -> None:
    for instruction in INSTRUCTIONS:
        if instruction.keyword in ("ENV", "ARG"):
            names = re.findall(r"(\w+)=", instruction.value) or [instruction.value.split()[0]]
            for name in names:
                assert not SECRET_NAME.search(name), f"{instruction.keyword} {name}: credentials come from Secrets"
        assert not SECRET_VALUE.search(instruction.value), f"{instruction.keyword} carries what looks like a secret"
    copied = " ".join(i.value for i in INSTRUCTIONS if i.keyword in ("COPY", "ADD"))
    for sensitive in (".env", ".git/", "id_rsa", ".npmrc", ".pypirc", "kubeconfig"):
        assert sensitive not in copied


@pytest.mark.parametrize("excluded", [".git", ".venv", ".env", "tests", "kubeconfig"])
def test_dockerignore_keeps_the_context_to_what_the_build_needs(excluded: str) -> None:
    """The context is deny-all with an allowlist, so local secrets never reach a build."""
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
    assert excluded not in allowed
    copies = [i.value.split()[:-1] for i in INSTRUCTIONS if i.keyword == "COPY" and "--from" not in i.value]
    copied = {source.rstrip("/") for sources in copies for source in sources}
    assert copied <= set(allowed), "every COPY source is allowed by .dockerignore"


def test_parser_sees_continuations_and_stages() -> None:
    """The checks above are only as good as this parser: a RUN split over lines is one
    instruction, comments are dropped, and FROM starts a stage."""
    parsed = parse("FROM a:1.0 AS x\n# c\nRUN one \\\n && two\nFROM b:2.0\nUSER 1\n")
    assert [(i.keyword, i.stage) for i in parsed] == [("FROM", 0), ("RUN", 0), ("FROM", 1), ("USER", 1)]
    assert parsed[1].value == "one  && two"
