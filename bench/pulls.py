"""Pull requests for the benchmarks: a GitHub emulator with `count` open pull requests whose runs the
operator follows, and the reviewer who merges them. Not a benchmark by itself.

The branches are made in one local clone and pushed at once (a clone per branch would take most of
the benchmark's time); the pull requests are opened and merged through the REST API, as a person's
tools do.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github import Auth, Github

from atomesh.devstack.github import Accounts, GitHubEmulator
from atomesh.devstack.serving import BackgroundServer


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@dataclass
class PullRequests:
    emulator: GitHubEmulator
    server: BackgroundServer
    accounts: Accounts
    repo: str
    pulls: list[dict[str, Any]]  # what a run's `pull` input names: repo, number, url

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/v3"

    @property
    def git_url(self) -> str:
        return self.server.url

    def client(self, token: str) -> Github:
        return Github(
            base_url=self.api_url,
            auth=Auth.Token(token),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    def merge_all(self, per_second: float = 20.0) -> None:
        """The reviewer merges every pull request, at a steady pace."""
        repo = self.client(self.accounts.reviewer_token).get_repo(self.repo)
        for pull in self.pulls:
            if not repo.get_pull(pull["number"]).merge().merged:
                raise RuntimeError(f"pull request {pull['number']} was not merged")
            time.sleep(1 / per_second)

    def close(self) -> None:
        self.server.stop()


def open_pull_requests(root: Path, count: int) -> PullRequests:
    """A GitHub emulator serving `demo/sample-app` with `count` open pull requests, one file each."""
    emulator = GitHubEmulator(root / "github")
    accounts = emulator.add_default_accounts()
    server = BackgroundServer(emulator.build_app, name="github-emulator")
    server.start()
    repo = emulator.seed_sample_app()
    clone = root / "clone"
    authority = server.url.replace("://", f"://x-access-token:{accounts.bot_token}@", 1)
    subprocess.run(["git", "clone", "-q", f"{authority}/{repo}.git", str(clone)], check=True, capture_output=True)
    for setting in (("user.name", accounts.bot), ("user.email", f"{accounts.bot}@users.noreply.github.com")):
        _git(clone, "config", *setting)
    branches = [f"atomesh/bench/{index:04d}" for index in range(count)]
    for index, branch in enumerate(branches):
        _git(clone, "checkout", "-q", "-B", branch, "origin/main")
        (clone / f"notes-{index:04d}.md").write_text(f"# Note {index}\n")
        _git(clone, "add", ".")
        _git(clone, "commit", "-q", "-m", f"Add note {index}")
    _git(clone, "push", "-q", "origin", *(f"{branch}:{branch}" for branch in branches))
    github = PullRequests(emulator, server, accounts, repo, [])
    remote = github.client(accounts.bot_token).get_repo(repo)
    for index, branch in enumerate(branches):
        pull = remote.create_pull(title=f"Add note {index}", body="", head=branch, base="main")
        github.pulls.append({"repo": repo, "number": pull.number, "url": pull.html_url})
    return github
