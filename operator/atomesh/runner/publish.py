"""Step 3, publish: turn the workspace's change into a reviewed artifact.

Order matters: paths and the bounds of symbolic links are enforced before anything leaves the pod (a
violation pushes nothing), the commit carries provenance trailers, the branch is pushed before the PR
is opened or updated (found by head branch first, so a retried publish does not open a second one),
and the summary is the last thing written. Forge credentials only.
"""

from __future__ import annotations

import re

import git

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import Artifact, ReviewStatus, Usage
from atomesh.api.runfile import PublishSummary, RunFile
from atomesh.core.memory import memory_patterns
from atomesh.forge import git as gitops
from atomesh.forge.errors import ForgeError, GitError
from atomesh.forge.protocol import Forge, PullRequestRequest
from atomesh.review import build_surface
from atomesh.runner.checkout import token_for
from atomesh.runner.context import StepContext
from atomesh.runner.failure import StepFailure
from atomesh.runner.memory import changes_memory_only, read_memory_pin
from atomesh.runner.paths import disallowed
from atomesh.runner.pause import Pause, read_pause
from atomesh.runner.publish_links import refused_links, with_modes
from atomesh.runner.publish_visual import COMMITTER_EMAIL, COMMITTER_NAME, publish_visuals
from atomesh.runner.pull_request_branch import checked_pull_request
from atomesh.runner.review_input import build_review_input, changed_files
from atomesh.runner.session import resumed_session, snapshot_work, store_session
from atomesh.runner.site_output import site_builds
from atomesh.runner.state import read_checks, read_summary, read_usage


def forge_repo(repo: str) -> str:
    """owner/name for the forge API, from `owner/name` or a clone URL."""
    if "://" not in repo and not repo.startswith(("/", "git@", "file:")):
        return repo
    path = re.sub(r"\.git/?$", "", repo.rstrip("/"))
    parts = re.split(r"[/:]", path)
    return "/".join(parts[-2:])


SUMMARY_SHOWN = 500  # characters of the agent's summary a no-change message carries (status, PR comment)


def no_change_message(summary: str) -> str:
    """Why nothing was published, in the agent's own words when it gave any (a revision's hand-back
    comment on the pull request quotes it)."""
    words = " ".join(summary.split())
    if not words:
        return "the agent changed nothing"
    if len(words) > SUMMARY_SHOWN:
        words = words[: SUMMARY_SHOWN - 1] + "…"
    return f"the agent changed nothing; it said: {words}"


def commit_message(run: RunFile) -> str:
    spec = run.spec
    title = f"atomesh: {run.agent} ({run.run})"
    if run.revision:
        title += f", revision {run.revision}"
    trailers = [
        f"Atomesh-Agent: {run.namespace}/{run.agent}",
        f"Atomesh-Run: {run.namespace}/{run.run}",
        f"Atomesh-Agent-Revision: {run.agent_revision or 'unknown'}",
        f"Atomesh-Harness: {spec.harness.kind}",
        f"Atomesh-Model: {spec.harness.model}",
    ]
    return f"{title}\n\n{spec.purpose.strip()}\n\n" + "\n".join(trailers) + "\n"


def earlier_attempt(repo: git.Repo, run: RunFile) -> str | None:
    """HEAD, when an earlier attempt of this run's publish step committed it (and then crashed)."""
    head = repo.head.commit
    own = f"Atomesh-Run: {run.namespace}/{run.run}\n" in str(head.message) and head.committer.email == COMMITTER_EMAIL
    return head.hexsha if own and head.parents else None


def keep_paused(ctx: StepContext, repo: git.Repo, token: str | None, pause: Pause, usage: Usage) -> PublishSummary:
    """A paused run publishes nothing: its session and its work go to its session ref, for its next attempt."""
    work = snapshot_work(ctx, repo)
    stored = store_session(ctx, repo, token, work)
    kept = f"session and work kept at {stored}" if stored else "its session and work could not be kept"
    message = (
        f"paused at its limit: {pause.message}; {kept}; raise the limit or annotate {k.ANNOTATION_RESUME} to resume"
    )
    return PublishSummary(outcome="paused", reason=pause.reason, usage=usage, message=ctx.scrub(message))


def run_publish(ctx: StepContext, forge: Forge) -> PublishSummary:
    run = ctx.run
    spec = run.spec
    usage = read_usage(ctx.state_dir) or Usage()
    checks = read_checks(ctx.state_dir)
    # The URL checkout cloned, from the spec: the workspace's own remote is the agent's to change.
    url = gitops.repo_url(spec.workspace.repo, ctx.forge_git_url)
    with gitops.open_untrusted(ctx.workspace, url) as repo:
        pause = read_pause(ctx.state_dir)
        if pause is not None:
            return keep_paused(ctx, repo, token_for(ctx, url), pause, usage)
        gitops.stage_all(repo)
        delta = gitops.staged_changes(repo)
        earlier = None if delta else earlier_attempt(repo, run)
        revisions: tuple[str, ...] = ("--cached", "HEAD")
        if earlier is not None:
            # This step ran before on this volume and stopped after committing: publish that commit.
            ctx.log(f"resuming an earlier attempt that committed {earlier[:12]}")
            revisions = (f"{earlier}^", earlier)
            delta = gitops.diff_changes(repo, *revisions)
        if not delta:
            ctx.log("the agent changed nothing")
            message = no_change_message(ctx.scrub(read_summary(ctx.state_dir)))
            return PublishSummary(outcome="noChanges", usage=usage, checks=checks, message=message)
        touched = [path for change in delta for path in (change.path, change.previous_path) if path]
        allowed = memory_patterns(spec.memory) if changes_memory_only(run) and spec.memory else spec.output.paths
        outside = disallowed(touched, allowed)
        if outside:
            raise StepFailure(
                c.PATHS_NOT_ALLOWED,
                f"{len(outside)} file(s) outside spec.output.paths {allowed}: {', '.join(outside)}; nothing was pushed",
            )
        links = (
            [] if spec.output.allow_out_of_bounds_symlinks else refused_links(repo, ctx.workspace, allowed, *revisions)
        )
        if links:
            raise StepFailure(
                c.SYMLINK_OUT_OF_BOUNDS,
                ctx.scrub(
                    f"{len(links)} symbolic link(s) out of bounds: {'; '.join(links)}; nothing was pushed "
                    "(spec.output.allowOutOfBoundsSymlinks: true publishes them)"
                ),
            )
        slug = forge_repo(spec.workspace.repo)
        target = checked_pull_request(forge, slug, run) if run.onto_pull_request else None
        if earlier is not None:
            old_head, head = repo.head.commit.parents[0].hexsha, earlier
        else:
            old_head = repo.head.commit.hexsha
            head = gitops.commit(repo, commit_message(run), COMMITTER_NAME, COMMITTER_EMAIL)
        try:
            # A first run owns its branch (force: a re-run of the same run may have pushed before);
            # a revision adds to the reviewed branch and must not rewrite it.
            # Someone's pull request branch is never rewritten either.
            gitops.push(repo, run.branch, token_for(ctx, url), force=not (run.revision_of or target))
        except GitError as error:
            raise StepFailure(c.PUSH_FAILED, ctx.scrub(f"cannot push {run.branch}: {error.detail}")) from None
        store_session(ctx, repo, token_for(ctx, url))
        ctx.log(f"pushed {run.branch}@{head[:12]}")
        base = old_head
        if run.revision_of and target is None:
            base = gitops.merge_base(repo, f"origin/{spec.workspace.base_branch}", head) or old_head
        files = with_modes(repo, base, head, changed_files(repo, base, head))
        visuals, visual_notes = publish_visuals(ctx, repo, url, base, head, files)
    resumed = resumed_session(ctx)
    review_input = build_review_input(
        run,
        files,
        usage,
        checks,
        read_summary(ctx.state_dir),
        resumed_session=resumed,
        memory=read_memory_pin(ctx),
        visuals=visuals,
        visual_notes=visual_notes,
        site_builds=site_builds(ctx),
    )
    surface = build_surface(review_input)
    try:
        if target is not None:
            # The pull request is its author's: the surface goes in a comment, its title and body stay.
            pull = target
            forge.comment(slug, pull.number, f"## {surface.title}\n\n{surface.body}")
        else:
            pull = forge.open_or_update_pull_request(
                PullRequestRequest(
                    repo=slug,
                    head_branch=run.branch,
                    base_branch=spec.workspace.base_branch,
                    title=surface.title,
                    body=surface.body,
                    labels=list(surface.labels),
                    reviewers=list(spec.review.reviewers),
                    team_reviewers=list(spec.review.team_reviewers),
                    draft=spec.review.draft,
                )
            )
        forge.create_check_run(
            slug, head, surface.check_name, surface.check_conclusion, surface.check_title, surface.check_summary
        )
    except ForgeError as error:
        raise StepFailure(c.FORGE_ERROR, ctx.scrub(f"{slug}: {error.message}")) from None
    ctx.log(f"pull request {pull.url}")
    verb = "pushed to" if target is not None else "updated" if run.revision_of else "opened"
    return PublishSummary(
        outcome="published",
        artifact=Artifact(
            type=spec.output.artifact,
            branch=run.branch,
            base_branch=pull.base_branch,
            commit=head,
            files=[f.path for f in files],
            additions=sum(f.additions for f in files),
            deletions=sum(f.deletions for f in files),
        ),
        review=ReviewStatus(
            provider="github", repo=slug, url=pull.url, number=pull.number, state="open", revision=run.revision
        ),
        usage=usage,
        checks=checks,
        message=f"{verb} pull request #{pull.number} with {len(files)} changed file(s)",
    )
