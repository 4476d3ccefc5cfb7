"""Which repositories a manifest may name: `source.repo` and `workspace.repo` are fetched from the
operator's network position (git ls-remote) and the runner's, so they are checked before anything
connects to them.

Invariants:
- `owner/name` always names a repository on the configured forge and is always allowed.
- A URL is allowed only with scheme https, http or ssh (or scp-like `user@host:path`), no user
  credentials, and — when the operator's allowlist is given — a host (or host:port) on it; by
  default the allowlist is the forge's own hosts (OperatorConfig.allowed_repository_hosts).
- Local paths, `file:`, git's `<transport>::` helpers (`ext::` runs a command) and anything that
  starts with `-` (read by git as an option, e.g. `--upload-pack=...`) are always refused.
- A refusal is a message for a FieldError (core.validation): the Agent is invalid until its spec
  changes, never retried.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

from atomesh.api.common import redact_userinfo

OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
SCP_LIKE = re.compile(r"^(?P<user>[A-Za-z0-9_.-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*)$")
URL_SCHEMES = ("https", "http", "ssh")
FIX = "use owner/name on the forge or an https URL on an allowed host"


def _host_allowed(host: str, port: int | None, allowed: Collection[str] | None) -> bool:
    if allowed is None:
        return True
    host = host.lower()
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


def repository_problem(repo: str, allowed_hosts: Collection[str] | None) -> str | None:
    """Why `repo` may not be fetched, or None. `allowed_hosts` None: any host (the linter's view).
    The message shows `repo` with any user credentials masked."""
    shown = redact_userinfo(repo)
    if repo.startswith("-"):
        return f"{shown!r} starts with '-', which git reads as an option; {FIX}"
    if OWNER_NAME.match(repo) and ".." not in repo:
        return None
    if "::" in repo.split("/", 1)[0]:
        return f"{shown!r} uses a git transport helper ('<transport>::'), which is never allowed; {FIX}"
    scp = SCP_LIKE.match(repo)
    if scp is not None:
        host = scp.group("host")
        if not _host_allowed(host, None, allowed_hosts):
            return f"host {host!r} of {shown!r} is not an allowed repository host ({_listing(allowed_hosts)}); {FIX}"
        return None
    try:
        parts = urlsplit(repo)
        port = parts.port
    except ValueError as error:
        return f"{shown!r} is not a valid URL ({error}); {FIX}"
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        return (
            f"{shown!r} is neither owner/name nor an https, http or ssh URL with a host "
            f"(local paths and file: are refused); {FIX}"
        )
    if parts.username is not None or parts.password is not None:
        return "the URL carries credentials; remove them (the forge's credentials come from the operator's Secret)"
    if not _host_allowed(parts.hostname, port, allowed_hosts):
        host = parts.hostname if port is None else f"{parts.hostname}:{port}"
        return f"host {host!r} is not an allowed repository host ({_listing(allowed_hosts)}); {FIX}"
    return None


def _listing(allowed: Collection[str] | None) -> str:
    return "allowed: " + ", ".join(sorted(allowed)) if allowed else "none are allowed"
