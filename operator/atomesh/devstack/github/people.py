"""JSON shapes of GitHub's people: users (`simple-user`, `public-user`), organizations, teams and
apps, and how someone is associated with a repository (`author_association`)."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from .store import App, Repo, Store

if TYPE_CHECKING:
    from .payloads import Urls

Json = dict[str, Any]
# When the emulator's people "joined": a fixed date keeps responses stable across runs.
JOINED = "2024-01-01T00:00:00Z"


def user_json(store: Store, urls: Urls, login: str | None) -> Json | None:
    """A `simple-user`: every field GitHub's description requires, URLs on the emulator's host."""
    if login is None:
        return None
    user = store.users.get(login) or store.add_user(login)
    api = f"{urls.api}/users/{user.login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": f"U_{user.id}",
        "avatar_url": f"{urls.origin}/avatars/{user.login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.origin}/{user.login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
        "name": user.name,
        "email": user.email,
    }


def public_user_json(store: Store, urls: Urls, login: str) -> Json:
    """A `public-user` (GET /users/{username}, GET /user): the simple user and its profile."""
    body = user_json(store, urls, login) or {}
    repos = sum(1 for repo in store.repos.values() if repo.owner == login and not repo.private)
    return {
        **body,
        "company": None,
        "blog": "",
        "location": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": JOINED,
        "updated_at": JOINED,
    }


def org_json(store: Store, urls: Urls, login: str) -> Json:
    """An `organization-full` (GET /orgs/{org})."""
    user = store.users.get(login) or store.add_user(login, type="Organization")
    api = f"{urls.api}/orgs/{login}"
    return {
        "login": login,
        "id": user.id,
        "node_id": f"O_{user.id}",
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{urls.origin}/avatars/{login}",
        "description": None,
        "name": user.name,
        "html_url": f"{urls.origin}/{login}",
        "has_organization_projects": False,
        "has_repository_projects": False,
        "public_repos": sum(1 for repo in store.repos.values() if repo.owner == login and not repo.private),
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": JOINED,
        "updated_at": JOINED,
        "archived_at": None,
    }


def team_json(urls: Urls, repo: Repo, slug: str) -> Json:
    """A `team` of the repository's owner; the emulator knows teams only by the slugs requested."""
    number = zlib.crc32(f"{repo.owner}/{slug}".encode()) % 10_000_000
    api = f"{urls.api}/orgs/{repo.owner}/teams/{slug}"
    return {
        "id": number,
        "node_id": f"T_{number}",
        "url": api,
        "html_url": f"{urls.origin}/orgs/{repo.owner}/teams/{slug}",
        "name": slug,
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "type": "organization",
        "parent": None,
    }


def app_json(store: Store, urls: Urls, app: App | None, slug: str, owner: str) -> Json:
    """An `integration` (a GitHub App): the registered app, or an app known only by the bot it acts as."""
    slug = app.slug if app else slug.removesuffix("[bot]")
    number = app.id if app else zlib.crc32(slug.encode()) % 1_000_000
    return {
        "id": number,
        "slug": slug,
        "client_id": f"Iv1.{number:016x}",
        "node_id": f"A_{number}",
        "owner": user_json(store, urls, owner),
        "name": slug,
        "description": None,
        "external_url": f"{urls.origin}/apps/{slug}",
        "html_url": f"{urls.origin}/apps/{slug}",
        "created_at": JOINED,
        "updated_at": JOINED,
        "permissions": {"checks": "write", "contents": "write", "metadata": "read", "pull_requests": "write"},
        "events": ["check_run", "pull_request", "push"],
    }


def app_for(store: Store, login: str) -> App | None:
    return next((app for app in store.apps.values() if f"{app.slug}[bot]" == login), None)


def author_association(store: Store, repo: Repo, login: str | None) -> str:
    """How `login` relates to `repo`, as GitHub computes it: the owner, a collaborator, someone whose
    pull request was merged (a contributor), or none of these. (Organization membership, MEMBER, is
    not emulated.)"""
    if login is None:
        return "NONE"
    if login == repo.owner:
        return "OWNER"
    if login in repo.collaborators:
        return "COLLABORATOR"
    if any(pull.merged and pull.user == login for pull in repo.pulls.values()):
        return "CONTRIBUTOR"
    return "NONE"
