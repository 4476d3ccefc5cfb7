"""The forge of one case run: a GitHub emulator on loopback holding the starting repository.

The run's checkout clones from it and its publish pushes and opens the pull request there, through
the same clients as against GitHub; the review surface is then read back over its REST API, as a
person would see it, and saved as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from github import Auth, Github

from atomesh.agenttest.repository import push_starting_state
from atomesh.api.agent import AgentSpec
from atomesh.api.runfile import PublishSummary
from atomesh.devstack.github import BOT, GitHubEmulator
from atomesh.devstack.serving import BackgroundServer
from atomesh.runner.publish import forge_repo


@dataclass(frozen=True)
class Review:
    """The verification surface as published."""

    title: str | None = None
    labels: tuple[str, ...] = ()
    body: str | None = None
    verdict: str | None = None  # the check run's conclusion


class ForgeSandbox:
    """A context manager: the emulator runs between enter and exit."""

    def __init__(self, root: Path, spec: AgentSpec) -> None:
        self.spec = spec
        self.repo = forge_repo(spec.workspace.repo)
        self.emulator = GitHubEmulator(root)
        self.accounts = self.emulator.add_default_accounts(owner=self.repo.split("/", 1)[0])
        self.server = BackgroundServer(self.emulator.build_app, name="github-emulator")

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/v3"

    @property
    def git_url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        return self.accounts.bot_token

    def seed(self, source: Path, work: Path) -> str:
        """Create the workspace repository from the case's starting state; returns its base commit."""
        self.emulator.create_repo(self.repo)
        self.emulator.grant(self.repo, BOT, "write")
        for reviewer in self.spec.review.reviewers:
            self.emulator.grant(self.repo, reviewer, "write")  # as on GitHub, a reviewer must be a collaborator
        push_url = f"{self.git_url.replace('://', f'://x-access-token:{self.token}@', 1)}/{self.repo}.git"
        return push_starting_state(source, work, self.spec.workspace.base_branch, push_url)

    def review(self, summary: PublishSummary, out: Path) -> Review:
        """The pull request and check run the publish step made, read back and saved under `out`."""
        if summary.review is None or summary.review.number is None or summary.artifact is None:
            return Review()
        client = Github(base_url=self.api_url, auth=Auth.Token(self.token), retry=None)
        try:
            repo = client.get_repo(self.repo)
            pull = repo.get_pull(summary.review.number)
            labels = tuple(label.name for label in pull.labels)
            body = pull.body or ""
            verdict: str | None = None
            check_text = ""
            if summary.artifact.commit:
                for check in repo.get_commit(summary.artifact.commit).get_check_runs():
                    verdict = check.conclusion
                    check_text = (
                        f"# {check.name}: {check.conclusion}\n\n## {check.output.title}\n\n{check.output.summary}\n"
                    )
            (out / "pull-request.md").write_text(
                f"# {pull.title}\n\nLabels: {', '.join(labels) or 'none'}\n\n{body}\n", encoding="utf-8"
            )
            if check_text:
                (out / "check-run.md").write_text(check_text, encoding="utf-8")
            return Review(title=pull.title, labels=labels, body=body, verdict=verdict)
        finally:
            client.close()

    def __enter__(self) -> ForgeSandbox:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
