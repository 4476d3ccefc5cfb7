"""Check suites: GitHub groups the check runs of one app on one commit into a suite, which is
`completed` once all its runs are, with the most severe of their conclusions."""

from __future__ import annotations

from typing import Any

from .context import Services
from .payloads import Urls, pull_refs, repo_json, suite_id
from .people import app_for, app_json, user_json
from .store import CheckRun, Repo

Json = dict[str, Any]
# Most severe first, as GitHub sums a suite up.
SEVERITY = ("action_required", "cancelled", "timed_out", "failure", "stale", "neutral", "success", "skipped")


def suite_json(svc: Services, urls: Urls, repo: Repo, head_sha: str, app_login: str) -> Json:
    """The suite of one app's runs on one commit as webhooks show it (`simple-check-suite`): in_progress
    until all its runs completed, then completed with their most severe conclusion."""
    runs = [r for r in repo.check_runs if r.head_sha == head_sha and r.app_login == app_login]
    done = bool(runs) and all(r.status == "completed" for r in runs)
    conclusions = {r.conclusion for r in runs}
    info = svc.storage.commit(repo.full_name, head_sha)
    branch = next((name for name, sha in svc.storage.branches(repo.full_name).items() if sha == head_sha), None)
    number = suite_id(repo, head_sha, app_login)
    return {
        "id": number,
        "node_id": f"CS_{number}",
        "head_branch": branch,
        "head_sha": head_sha,
        "status": "completed" if done else "in_progress",
        "conclusion": next((c for c in SEVERITY if c in conclusions), None) if done else None,
        "url": f"{urls.repo_api(repo)}/check-suites/{number}",
        "before": info.parents[0] if info.parents else "0" * 40,
        "after": head_sha,
        "pull_requests": pull_refs(urls, repo, head_sha),
        "app": app_json(svc.store, urls, app_for(svc.store, app_login), app_login, repo.owner),
        "created_at": min((r.started_at for r in runs), default=None),
        "updated_at": max((r.completed_at or r.started_at for r in runs), default=None),
    }


def suite_completed(svc: Services, urls: Urls, repo: Repo, run: CheckRun, sender: str) -> None:
    """Emit `check_suite` `completed` when `run` was the last of its suite to complete."""
    runs = [r for r in repo.check_runs if r.head_sha == run.head_sha and r.app_login == run.app_login]
    if any(r.status != "completed" for r in runs):
        return
    info = svc.storage.commit(repo.full_name, run.head_sha)
    suite = suite_json(svc, urls, repo, run.head_sha, run.app_login)
    suite |= {
        "latest_check_runs_count": len({r.name for r in runs}),
        "check_runs_url": f"{suite['url']}/check-runs",
        "head_commit": {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message,
            "timestamp": info.committer_date,
            "author": {"name": info.author.name, "email": info.author.email},
            "committer": {"name": info.committer.name, "email": info.committer.email},
        },
    }
    payload = {
        "action": "completed",
        "check_suite": suite,
        "repository": repo_json(svc.store, urls, repo),
        "sender": user_json(svc.store, urls, sender),
    }
    svc.dispatcher.emit(repo, "check_suite", payload)
