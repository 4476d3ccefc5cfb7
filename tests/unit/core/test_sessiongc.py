"""Which session refs a sweep deletes, pure: those whose run exists in no namespace, in the repositories
the runs and Agents name."""

from __future__ import annotations

from atomesh.core.sessiongc import MAX_REPOSITORIES, orphaned_sessions, session_repositories

PREFIX = "refs/atomesh/sessions/"


def test_only_sessions_of_runs_that_exist_nowhere_are_orphaned() -> None:
    refs = [PREFIX + "fix-1", PREFIX + "fix-2", PREFIX + "fix-1-r1", "refs/heads/main", "refs/atomesh/other/fix-9"]
    assert orphaned_sessions(refs, {"fix-1", "fix-1-r1"}) == [PREFIX + "fix-2"]
    assert orphaned_sessions(refs, {"fix-1", "fix-2", "fix-1-r1"}) == []
    assert orphaned_sessions([], set()) == []


def test_the_repositories_come_from_pull_requests_and_workspaces_named_owner_slash_name() -> None:
    runs = [
        {"status": {"review": {"repo": "acme/app"}}},
        {"status": {}},
        {"metadata": {"name": "no-status"}},
    ]
    agents = [
        {"spec": {"workspace": {"repo": "acme/site"}}},
        {"spec": {"workspace": {"repo": "https://git.example.com/acme/mirror.git"}}},  # not on the forge
        {"spec": {"workspace": {"repo": "acme/app"}}},
    ]
    assert session_repositories(agents, runs) == ["acme/app", "acme/site"]
    many = [{"spec": {"workspace": {"repo": f"acme/repo-{i:04d}"}}} for i in range(MAX_REPOSITORIES + 5)]
    assert len(session_repositories(many, [])) == MAX_REPOSITORIES
