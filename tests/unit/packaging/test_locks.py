"""The lock files pin every declared dependency within its declared range, so `make install`
(pip --require-hashes, no resolution) installs a complete, consistent set on a fresh machine."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+?)(?: ;.*)? \\$", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared(extra: str | None) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(("lock", "extra"), [("runtime.txt", None), ("dev.txt", "dev")])
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, extra: str | None) -> None:
    pinned = pins(lock)
    for requirement in declared(extra):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"requirements/{lock} lacks {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {requirement.name}=={pinned[name]} outside {requirement.specifier}: "
            "run `make lock`"
        )


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_every_pin_carries_hashes(lock: str) -> None:
    lines = (ROOT / "requirements" / lock).read_text().splitlines()
    pinned = [i for i, line in enumerate(lines) if PIN.match(line)]
    assert len(pinned) == len(pins(lock)) > 10
    for i in pinned:
        assert lines[i + 1].strip().startswith("--hash=sha256:"), f"requirements/{lock}: no hash for {lines[i]}"


def test_the_runtime_lock_agrees_with_the_dev_lock() -> None:
    dev = pins("dev.txt")
    for name, version in pins("runtime.txt").items():
        assert dev.get(name) == version, f"{name}: runtime.txt pins {version}, dev.txt {dev.get(name)}: run `make lock`"


def test_node_lock_pins_what_package_json_declares() -> None:
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    wanted = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    assert lock["packages"][""].get("dependencies", {}) | lock["packages"][""].get("devDependencies", {}) == wanted
    for name, version in wanted.items():
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version, f"package-lock.json: {name} is {entry['version']}, run `make lock`"
        assert entry["integrity"].startswith("sha512-"), f"package-lock.json: {name} has no integrity hash"
