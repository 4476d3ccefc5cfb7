"""Resolving an agent's `source.ref` to a commit with `git ls-remote`, which works against any git
URL (https, ssh, file) without cloning."""

from __future__ import annotations

import os
import re

import git

from atomesh.api.common import redact_userinfo
from atomesh.forge.errors import GitError, RefNotFound

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
LS_REMOTE_TIMEOUT = 30.0


def parse_ls_remote(output: str) -> dict[str, str]:
    """`ref name -> sha` from ls-remote output; peeled tags (`^{}`) point at the tagged commit."""
    refs: dict[str, str] = {}
    for line in output.splitlines():
        sha, _, name = line.strip().partition("\t")
        if sha and name:
            refs[name] = sha
    return refs


def pick_ref(refs: dict[str, str], ref: str) -> str | None:
    """Branch first, then tag (annotated tags resolve to their commit), then any full ref name."""
    for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref):
        if candidate in refs:
            return refs[candidate]
    return None


def resolve_ref(repo_url: str, ref: str) -> str:
    """The commit `ref` names in `repo_url`. A full commit sha is returned as given (ls-remote lists only refs).

    Raises RefNotFound when the ref does not exist, GitError (with git's whole message) when the
    repository is unreachable or refuses.
    """
    if FULL_SHA.match(ref):
        return ref
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        output = git.cmd.Git().ls_remote(repo_url, env=env, kill_after_timeout=LS_REMOTE_TIMEOUT)
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot list the refs of {redact_userinfo(repo_url)}", error) from None
    commit = pick_ref(parse_ls_remote(str(output)), ref)
    if commit is None:
        raise RefNotFound(f"{ref!r} is neither a branch nor a tag of {redact_userinfo(repo_url)}")
    return commit
