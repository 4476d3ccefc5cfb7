"""Which repositories a manifest may name: the forge's hosts and the operator's allowlist, never a local
path, a transport helper or an option."""

from __future__ import annotations

import pytest

from atomesh.api.agent import AgentSpec
from atomesh.core.config import OperatorConfig
from atomesh.core.repositories import repository_problem
from atomesh.core.validation import check_json_schema, validate_agent_spec

CONFIG = OperatorConfig(forge_git_url="http://127.0.0.1:8080", forge_api_url="http://127.0.0.1:8080/api/v3")


def test_the_allowlist_is_the_forge_plus_the_configured_hosts() -> None:
    assert CONFIG.allowed_repository_hosts() == {"127.0.0.1:8080"}
    config = OperatorConfig(repository_hosts="GitLab.example.com, git.example.org:2222")  # type: ignore[arg-type]
    assert config.allowed_repository_hosts() == {
        "github.com",
        "api.github.com",
        "gitlab.example.com",
        "git.example.org:2222",
    }


@pytest.mark.parametrize(
    "repo",
    ["acme/site", "acme/site.git", "http://127.0.0.1:8080/acme/site.git"],
)
def test_allowed(repo: str) -> None:
    assert repository_problem(repo, CONFIG.allowed_repository_hosts()) is None


def test_ssh_to_the_forge_host_when_it_has_no_port() -> None:
    assert repository_problem("git@github.com:acme/site.git", OperatorConfig().allowed_repository_hosts()) is None
    assert repository_problem("git@127.0.0.1:acme/site.git", CONFIG.allowed_repository_hosts()) is not None


@pytest.mark.parametrize(
    ("repo", "says"),
    [
        ("http://127.0.0.1:9/acme/site.git", "'127.0.0.1:9' is not an allowed repository host"),
        ("https://169.254.169.254/latest", "'169.254.169.254' is not an allowed"),
        ("--upload-pack=touch /tmp/x", "git reads as an option"),
        ("ext::sh -c id", "transport helper"),
        ("file:///etc/passwd", "local paths and file: are refused"),
        ("/srv/git/app", "local paths and file: are refused"),
        ("a/../../b", "local paths and file: are refused"),
        ("https://bot:ghp_x@127.0.0.1:8080/a/b", "carries credentials"),
    ],
)
def test_refused_with_a_reason(repo: str, says: str) -> None:
    problem = repository_problem(repo, CONFIG.allowed_repository_hosts())
    assert problem is not None
    assert says in problem
    assert "ghp_x" not in problem


def test_the_linter_checks_everything_but_the_host() -> None:
    assert repository_problem("https://git.internal.example/a/b.git", None) is None
    assert repository_problem("ext::sh -c id", None) is not None


def test_agent_validation_names_the_repository_fields() -> None:
    spec = AgentSpec.model_validate(
        {
            "purpose": "p",
            "source": {"repo": "http://169.254.169.254/x", "ref": "main"},
            "output": {"artifact": "doc"},
            "workspace": {"repo": "file:///srv/app"},
            "harness": {"model": "m"},
        }
    )
    paths = [error.path for error in validate_agent_spec(spec, CONFIG.allowed_repository_hosts())]
    assert paths == ["spec.workspace.repo", "spec.source.repo"]


def test_local_references_are_fine_and_remote_ones_named() -> None:
    local = {"$defs": {"t": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/t"}}}
    assert check_json_schema(local, ("schema",)) == []
    remote = {"properties": {"a": {"$ref": "https://example.com/t.json"}, "b": {"$ref": "t.json"}}}
    errors = check_json_schema(remote, ("schema",))
    assert [e.path for e in errors] == ["schema.properties.a.$ref", "schema.properties.b.$ref"]
    assert all("not fetched" in e.message and "#/$defs/NAME" in e.message for e in errors)
