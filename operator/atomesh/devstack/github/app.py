"""The GitHub emulator: state, git storage, webhooks and faults behind one aiohttp application.

    emulator = GitHubEmulator(tmp_path, web_user="reviewer")
    accounts = emulator.add_default_accounts()
    emulator.seed_sample_app()
    with BackgroundServer(emulator.build_app) as server:
        Github(base_url=f"{server.url}/api/v3", auth=Auth.Token(accounts.bot_token))
        # clone: f"{server.url}/demo/sample-app.git"

Setup helpers are thread-safe and may be called before or while the app is served.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from . import (
    checks,
    html,
    http_backend,
    installations,
    issues,
    labels,
    pulls,
    ratelimit,
    raw,
    reactions,
    repo_events,
    repositories,
    reviews,
    teams,
    traffic,
    webhooks,
)
from . import context as ctx
from .faults import Faults
from .faults import middleware as faults_middleware
from .hooks import Delivery, Dispatcher
from .repos import GitStorage, Identity
from .seed import SAMPLE_FILES, SAMPLE_REPO, SAMPLE_REVIEWERS
from .store import App, Hook, Repo, Store, Team

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BOT = "atomesh-bot"
REVIEWER = "reviewer"
OUTSIDER = "outsider"


@dataclass(frozen=True)
class Accounts:
    """The default people of a development stack: a bot that opens PRs, a reviewer, an outsider."""

    bot: str
    bot_token: str
    reviewer: str
    reviewer_token: str
    outsider: str
    outsider_token: str


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ctx.ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        # Unknown API routes answer in GitHub's JSON shape, so PyGithub raises its usual exceptions.
        if request.path.startswith(ctx.API_PREFIX) and exc.status >= 400:
            return ctx.ApiError(exc.status, "Not Found" if exc.status == 404 else exc.reason).response()
        raise


@web.middleware
async def _etags(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Conditional GETs: a weak ETag over the body; a matching If-None-Match gets 304 and no body."""
    response = await handler(request)
    if request.method != "GET" or not request.path.startswith(ctx.API_PREFIX) or response.status != 200:
        return response
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    etag = 'W/"' + hashlib.sha256(response.body).hexdigest()[:40] + '"'
    wanted = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    if etag in wanted or etag.removeprefix("W/") in wanted:
        # GitHub's 304s repeat the poll interval the events API asks pollers to keep.
        kept = {name: response.headers[name] for name in ("X-Poll-Interval",) if name in response.headers}
        return web.Response(status=304, headers={"ETag": etag, **kept})
    response.headers["ETag"] = etag
    return response


class GitHubEmulator:
    def __init__(self, root: Path, *, web_user: str | None = None) -> None:
        self.root = root
        self.store = Store()
        self.storage = GitStorage(root / "repositories")
        self.dispatcher = Dispatcher(self.store)
        self.faults = Faults()
        self.limits = ratelimit.RateLimits()
        traffic.log_from_environment()
        self.services = ctx.Services(self.store, self.storage, self.dispatcher, self.faults, web_user)
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- people -------------------------------------------------------------------------------
    def add_user(self, login: str, token: str | None = None, *, type: str = "User") -> str:
        """Create a user (or an organization with type="Organization"); returns its token."""
        self.store.add_user(login, type=type)
        value = token or f"ghp_{secrets.token_hex(18)}"
        if type != "Organization":
            self.store.add_token(value, login)
        return value

    def add_default_accounts(self, owner: str = "demo") -> Accounts:
        """`demo` organization, a bot and a reviewer with write access, an outsider with read access."""
        self.add_user(owner, type="Organization")
        self.services.web_user = self.services.web_user or REVIEWER
        return Accounts(
            bot=BOT,
            bot_token=self.add_user(BOT),
            reviewer=REVIEWER,
            reviewer_token=self.add_user(REVIEWER),
            outsider=OUTSIDER,
            outsider_token=self.add_user(OUTSIDER),
        )

    def grant(self, full_name: str, login: str, permission: str) -> None:
        """Make `login` a collaborator of a repository with admin/maintain/write/triage/read permission."""
        with self.store.lock:
            repo = self._repo(full_name)
            self.store.add_user(login)
            repo.collaborators[login] = permission

    def add_team(self, org: str, slug: str, members: Mapping[str, str], *, role: str = "member") -> None:
        """A team of organization `org` whose `members` map login -> membership state (active or pending)."""
        with self.store.lock:
            org_id = self.store.add_user(org, type="Organization").id
            key = (org.lower(), slug.lower())
            team = self.store.teams.setdefault(key, Team(org, slug, self.store.new_id(), org_id))
            for login, state in members.items():
                if state not in ("active", "pending"):
                    raise ValueError(f"team membership state must be active or pending, not {state!r}")
                self.store.add_user(login)
                team.members[login.lower()] = (role, state)

    def register_app(self, app_id: int, slug: str, public_key_pem: str, installation_id: int) -> None:
        """A GitHub App whose JWTs (signed with the matching private key) may mint installation tokens."""
        with self.store.lock:
            self.store.apps[app_id] = App(app_id, slug, public_key_pem, installation_id)
            self.store.add_user(f"{slug}[bot]", type="Bot")

    # --- repositories -------------------------------------------------------------------------
    def create_repo(
        self,
        full_name: str,
        files: Mapping[str, str | bytes] | None = None,
        *,
        private: bool = False,
        description: str = "",
    ) -> Repo:
        """A repository whose `main` branch holds `files` in one initial commit (empty when None)."""
        owner, name = full_name.split("/", 1)
        repo = repositories.create_repo(self.services, owner, name, private=private, description=description)
        if files and not self.storage.branches(repo.full_name):
            author = Identity(owner, f"{owner}@users.noreply.github.com")
            content = {path: text.encode() if isinstance(text, str) else text for path, text in files.items()}
            sha = self.storage.write_commit(repo.full_name, content, "Initial commit", author, [])
            self.storage.update_ref(repo.full_name, f"refs/heads/{repo.default_branch}", sha)
        return repo

    def seed_sample_app(self, collaborators: dict[str, str] | None = None) -> str:
        """Create `demo/sample-app`; by default the bot, the reviewer and the example agents' reviewers
        write to it and the outsider reads."""
        repo = self.create_repo(SAMPLE_REPO, SAMPLE_FILES, description="A tiny greeting service")
        default = {BOT: "write", REVIEWER: "write", OUTSIDER: "read", **SAMPLE_REVIEWERS}
        grants = collaborators if collaborators is not None else default
        for login, permission in grants.items():
            self.grant(repo.full_name, login, permission)
        return repo.full_name

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        return self.storage.branches(self._repo(full_name).full_name).get(branch)

    def git_dir(self, full_name: str) -> Path:
        return self.storage.path(self._repo(full_name).full_name)

    def _repo(self, full_name: str) -> Repo:
        repo = self.store.repo(full_name)
        if repo is None:
            raise KeyError(f"repository {full_name} does not exist; create it with create_repo() first")
        return repo

    # --- webhooks -----------------------------------------------------------------------------
    def add_hook(self, url: str, secret: str | None, events: list[str] | None = None, repo: str | None = None) -> int:
        """Subscribe `url` to `events` (all when None) of one repository, or of every repository."""
        hook = Hook(id=self.store.new_id(), url=url, secret=secret, events=list(events or []))
        with self.store.lock:
            if repo is None:
                self.store.global_hooks.append(hook)
            else:
                self._repo(repo).hooks.append(hook)
        return hook.id

    def deliveries(self, event: str | None = None, action: str | None = None) -> list[Delivery]:
        """Finished deliveries, oldest first."""
        return self.dispatcher.completed(event, action)

    def wait_for_deliveries(
        self, count: int = 1, *, event: str | None = None, action: str | None = None, timeout: float = 30.0
    ) -> list[Delivery]:
        return self.dispatcher.wait(count, event=event, action=action, timeout=timeout)

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a logged delivery again, same GUID and body (GitHub's "Redeliver"); thread-safe."""
        if self._loop is None:
            raise RuntimeError("the emulator is not serving; start it with build_app() first")

        async def again() -> Delivery:
            return self.dispatcher.redeliver(delivery_id)

        return asyncio.run_coroutine_threadsafe(again(), self._loop).result(30)

    # --- serving ------------------------------------------------------------------------------
    async def build_app(self) -> web.Application:
        """The aiohttp application; an async factory for `BackgroundServer` and `start_site`."""
        app = web.Application(
            middlewares=[
                traffic.middleware(ctx.API_PREFIX),
                ratelimit.middleware(self.limits, ctx.API_PREFIX),
                _errors,
                faults_middleware(self.faults, ctx.API_PREFIX),
                _etags,
            ],
            client_max_size=512 * 1024 * 1024,
        )
        app[ctx.SERVICES] = self.services
        app[ratelimit.LIMITS] = self.limits
        self._loop = asyncio.get_running_loop()
        for module in (
            repositories,
            webhooks,
            installations,
            pulls,
            reviews,
            issues,
            reactions,
            labels,
            checks,
            teams,
            repo_events,
            http_backend,
            raw,
            html,
        ):
            app.router.add_routes(module.routes)

        async def close_dispatcher(_: web.Application) -> None:
            await self.dispatcher.close()

        app.on_cleanup.append(close_dispatcher)
        return app
