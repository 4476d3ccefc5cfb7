"""GitHub requests PyGithub has no method for, made with its own requester (its auth, base URL and
exceptions) and retried by `retry.Retrier` like every other call: conditional GETs (an ETag in
`If-None-Match`; GitHub answers 304, which costs no rate limit) and team membership by org and slug.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from github import Github

from .retry import GitHubForgeError, Retrier, lower_headers


@dataclass(frozen=True)
class Conditional:
    """A conditional GET's answer: 304 (`data` None) or 200, with the response headers (lower-case)."""

    status: int
    headers: dict[str, str]
    data: Any

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


def conditional_get(
    gh: Github, retrier: Retrier, what: str, url: str, etag: str | None, params: dict[str, Any] | None = None
) -> Conditional:
    """GET `url` (a path under the API) with `If-None-Match: etag` when given."""
    requester = gh.requester

    def fetch() -> Conditional:
        headers = {"If-None-Match": etag} if etag else None
        status, found, body = requester.requestJson("GET", url, parameters=params, headers=headers)
        if status >= 400:  # a proxy's 502 page is HTML, not JSON: still a GithubException to retry
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = {"message": str(body)[:200]}
            raise requester.createException(status, found, data if isinstance(data, dict) else {})
        return Conditional(status, lower_headers(found), json.loads(body) if body and status != 304 else None)

    return retrier.call(what, fetch)


def team_membership(gh: Github, retrier: Retrier, org: str, team_slug: str, user: str) -> str | None:
    """`state` of `user`'s membership of the team (active or pending), None when not a member (404)."""
    path = "/".join(urllib.parse.quote(part, safe="") for part in (org, team_slug, user))
    org_, slug, login = path.split("/")
    url = f"/orgs/{org_}/teams/{slug}/memberships/{login}"
    try:
        _, data = retrier.call(
            f"get membership of {user} in team {org}/{team_slug}", lambda: gh.requester.requestJsonAndCheck("GET", url)
        )
    except GitHubForgeError as exc:
        if exc.status == 404:  # not a member (or the team is not visible to the operator's credentials)
            return None
        raise
    state = data.get("state") if isinstance(data, dict) else None
    return str(state) if state else None
