"""The webhooks of moving refs: `push` for every branch or tag that moved, `create` for one that
appeared, `delete` for one that went, whether a git push, the git refs API or a merge moved it.

    before = svc.storage.refs(repo.full_name)
    ... refs move ...
    refs_moved(svc, urls, repo, before, sender)
"""

from __future__ import annotations

from typing import Any

from .context import Services
from .payloads import Urls, repo_json
from .people import user_json
from .repos import CommitInfo, Identity
from .store import Repo

Json = dict[str, Any]
ZERO = "0" * 40
MAX_COMMITS = 20  # GitHub lists at most 20 commits in a push payload


def _person(identity: Identity, date: str | None = None) -> Json:
    body: Json = {"name": identity.name, "email": identity.email}
    if identity.email.endswith("@users.noreply.github.com"):
        body["username"] = identity.email.split("@", 1)[0]
    if date is not None:
        body["date"] = date
    return body


def _commit(svc: Services, urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    parent = info.parents[0] if info.parents else None
    files: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
    if parent is not None:
        for change in svc.storage.changed_files(repo.full_name, parent, info.sha):
            files.get(change.status, files["modified"]).append(change.path)
    return {
        "id": info.sha,
        "tree_id": info.tree,
        "distinct": True,
        "message": info.message,
        "timestamp": info.committer_date,
        "url": f"{urls.repo_html(repo)}/commit/{info.sha}",
        "author": _person(info.author, info.author_date),
        "committer": _person(info.committer, info.committer_date),
        **files,
    }


def _push(svc: Services, urls: Urls, repo: Repo, ref: str, old: str, new: str, sender: str, known: list[str]) -> Json:
    """A `push` payload; `known` are the tips of the other refs before the push: a new branch lists
    only the commits none of them had, as GitHub does."""
    created, deleted = old == ZERO, new == ZERO
    shas: list[str] = []
    if not deleted:
        span = [new, "--not", *known] if created else [f"{old}..{new}"]
        shas = svc.storage.out(repo.full_name, "rev-list", "--reverse", f"--max-count={MAX_COMMITS}", *span).split()
    forced = not created and not deleted and not svc.storage.is_ancestor(repo.full_name, old, new)
    commits = [_commit(svc, urls, repo, svc.storage.commit(repo.full_name, sha)) for sha in shas]
    user = svc.store.users.get(sender)
    return {
        "ref": ref,
        "before": old,
        "after": new,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": f"{urls.repo_html(repo)}/compare/{old[:12]}...{new[:12]}",
        "commits": commits,
        "head_commit": None if deleted else _commit(svc, urls, repo, svc.storage.commit(repo.full_name, new)),
        "repository": repo_json(svc.store, urls, repo),
        "pusher": {"name": sender, "email": (user.email if user else None) or f"{sender}@users.noreply.github.com"},
        "sender": user_json(svc.store, urls, sender),
    }


def refs_moved(svc: Services, urls: Urls, repo: Repo, before: dict[str, str], sender: str | None) -> None:
    """Emit `create`, `push` and `delete` for every branch and tag that differs from `before`."""
    after = svc.storage.refs(repo.full_name)
    who = sender or repo.owner
    for ref in sorted(set(before) | set(after)):
        old, new = before.get(ref, ZERO), after.get(ref, ZERO)
        if old == new or not ref.startswith(("refs/heads/", "refs/tags/")):
            continue
        kind = "branch" if ref.startswith("refs/heads/") else "tag"
        short = ref.split("/", 2)[2]
        envelope = {
            "ref": short,
            "ref_type": kind,
            "pusher_type": "user",
            "repository": repo_json(svc.store, urls, repo),
            "sender": user_json(svc.store, urls, who),
        }
        if old == ZERO:
            create = {**envelope, "master_branch": repo.default_branch, "description": repo.description or None}
            svc.dispatcher.emit(repo, "create", create)
        known = sorted({sha for name, sha in before.items() if name != ref})
        svc.dispatcher.emit(repo, "push", _push(svc, urls, repo, ref, old, new, who, known))
        if new == ZERO:
            svc.dispatcher.emit(repo, "delete", envelope)
