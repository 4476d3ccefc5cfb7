"""The forge port's errors. Every forge adapter (git, GitHub, the fake) raises these and only
these, so callers catch the port's types and never a library's; `transient` says whether trying
the same call again later may succeed (Flux's transient versus stalled)."""

from __future__ import annotations

import re

import git

from atomesh.api.common import redact_userinfo

# GitPython wraps a command's stderr as "\n  stderr: '<text>'"; git's progress lines say nothing.
_WRAPPED_STDERR = re.compile(r"^\s*stderr: '(?P<text>.*)'\s*$", re.DOTALL)
_PROGRESS = re.compile(r"^(Cloning into|remote: (Enumerating|Counting|Compressing|Total)|Receiving|Resolving)")
MESSAGE_LIMIT = 2000


class ForgeError(Exception):
    """A forge call failed; the message says what was attempted and what the forge answered."""

    transient = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if transient is not None:
            self.transient = transient


class GitError(ForgeError):
    """A git command failed: `detail` is git's whole error output, credentials masked."""

    def __init__(self, message: str, detail: str, *, transient: bool | None = None) -> None:
        super().__init__(message, transient=transient)
        self.detail = detail

    @classmethod
    def from_command(cls, what: str, error: git.GitCommandError) -> GitError:
        detail = git_error_text(error)
        return cls(f"{what}: {detail}", detail, transient=_looks_transient(error))


class RefNotFound(ForgeError, LookupError):
    """The repository answered but has no such branch or tag."""


class NotFound(ForgeError, LookupError):
    """The forge has no such object (repository, pull request)."""


class ForgeAPIError(ForgeError):
    """The forge's API refused or failed a call for good (after the adapter's own retries)."""

    def __init__(self, message: str, status: int | None = None, *, transient: bool | None = None) -> None:
        super().__init__(message, transient=transient)
        self.status = status


def git_error_text(error: git.GitCommandError) -> str:
    """git's own error lines (every one of them, progress dropped, credentials in URLs masked), or its exit status."""
    raw = str(error.stderr or "")
    wrapped = _WRAPPED_STDERR.match(raw)
    text = wrapped.group("text") if wrapped else raw
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _PROGRESS.match(line.strip())]
    if not lines:
        return f"git exited with status {error.status}"
    joined = redact_userinfo(" ".join(lines))
    return joined if len(joined) <= MESSAGE_LIMIT else joined[: MESSAGE_LIMIT - 1] + "…"


def _looks_transient(error: git.GitCommandError) -> bool:
    """Network trouble may pass; a missing repository, a bad ref or a refused URL will not."""
    text = str(error.stderr or "").lower()
    return any(hint in text for hint in ("could not resolve host", "connection refused", "timed out", "502", "503"))
