"""Sessions whose run is gone: what a sweep of the workspace repositories deletes.

Pure. Invariants:

- A session ref `refs/atomesh/sessions/<run>` is orphaned only when no AgentRun named `<run>` exists in
  any namespace the operator serves. Ref names carry no namespace, so a name alive anywhere keeps it.
- The sweep runs only when the operator serves every namespace: an operator limited to some namespaces
  cannot tell another operator's live runs from deleted ones, and deletes nothing.
- Runs are read after the refs are listed, so a ref pushed by a run that was created meanwhile is kept.
- A sweep is bounded: at most MAX_REPOSITORIES repositories and MAX_DELETIONS deletions; what is left
  is collected by the next sweep.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from atomesh.api.constants import SESSION_REF_PREFIX

MAX_REPOSITORIES = 100
MAX_DELETIONS = 500
_OWNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


def session_repositories(agents: Iterable[Mapping[str, Any]], runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The forge repositories (owner/name) that may hold sessions: every run's pull request repository and
    every Agent's workspace named as owner/name, sorted, at most MAX_REPOSITORIES."""
    found: set[str] = set()
    for run in runs:
        repo = ((run.get("status") or {}).get("review") or {}).get("repo")
        if isinstance(repo, str) and _OWNER_NAME.fullmatch(repo):
            found.add(repo)
    for agent in agents:
        repo = ((agent.get("spec") or {}).get("workspace") or {}).get("repo")
        if isinstance(repo, str) and _OWNER_NAME.fullmatch(repo):
            found.add(repo)
    return sorted(found)[:MAX_REPOSITORIES]


def orphaned_sessions(refs: Iterable[str], live_runs: Collection[str]) -> list[str]:
    """The session refs among `refs` whose run is not in `live_runs` (names), sorted."""
    prefix = SESSION_REF_PREFIX + "/"
    return sorted(ref for ref in refs if ref.startswith(prefix) and ref.removeprefix(prefix) not in live_runs)
