"""What `atomesh dev` says while the stack runs: one line per thing a user waits for.

`narrate(before, after, pull_urls)` is pure: from an AgentRun as it was (None when it is new) and
as it is now, the lines to print. Invariants: a line always names the run; it ends with the pull
request's URL whenever one is known for the run (its own, or for a revision or a mesh run the one
of the run it follows); a run that has not changed says nothing; a failed phase says its reason.
What is narrated: a phase change (with `reason: message` when the run failed, was rejected or
cancelled), a pull request opened, merged or closed, changes requested, a revision started, the
pull request handed back to review, and a mesh edge fired (a run a Mesh created for an edge).

`Narrator` watches AgentRuns over the Kubernetes API (list, then watch from its resourceVersion;
listed again when the watch expires) and prints what `narrate` says. The runs present when it
starts are its baseline, not news.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from atomesh.api.constants import ANNOTATION_MESH_EDGE, ANNOTATION_UPSTREAM_RUNS, GROUP, LABEL_MESH, VERSION
from atomesh.devstack.kubelet.apiclient import ApiClient, ApiStatusError

log = logging.getLogger(__name__)

PREFIX = "run        "  # the width of the stack's component column
MESH_PREFIX = "mesh       "
FAILED_PHASES = frozenset({"Failed", "Rejected", "Cancelled"})
WATCH_TIMEOUT_SECONDS = 300
RECONNECT_SECONDS = 1.0

Body = Mapping[str, Any]


def _status(run: Body | None) -> Mapping[str, Any]:
    return (run or {}).get("status") or {}


def _review(run: Body | None) -> Mapping[str, Any]:
    return _status(run).get("review") or {}


def pull_url(run: Body, pull_urls: Mapping[str, str]) -> str | None:
    """The pull request of the run, or of the run it revises or follows in a mesh."""
    own = _review(run).get("url")
    if own:
        return str(own)
    spec = run.get("spec") or {}
    annotations = (run.get("metadata") or {}).get("annotations") or {}
    related = [spec.get("revisionOf"), *str(annotations.get(ANNOTATION_UPSTREAM_RUNS) or "").split(",")]
    return next((pull_urls[name] for name in related if name and name in pull_urls), None)


def _why(status: Mapping[str, Any]) -> str:
    reason, message = status.get("reason"), status.get("message")
    if reason and message:
        return f" ({reason}: {message})"
    return f" ({reason or message})" if reason or message else ""


def narrate(before: Body | None, after: Body, pull_urls: Mapping[str, str]) -> list[str]:
    """The lines that tell what changed from `before` to `after` (an AgentRun; `before` None: created)."""
    name = str((after.get("metadata") or {}).get("name"))
    url = pull_url(after, pull_urls)
    tail = f"  {url}" if url else ""
    lines: list[str] = []
    if before is None:
        lines.extend(_created(name, after, tail))
    old, new = _status(before), _status(after)
    phase = new.get("phase")
    if phase and phase != old.get("phase") and (old.get("phase") or phase != "Pending"):  # created: Pending
        was = f"{old.get('phase')} → " if old.get("phase") else ""
        why = _why(new) if phase in FAILED_PHASES else ""
        lines.append(f"{PREFIX}{name}: {was}{phase}{why}{tail}")
    elif phase == "AwaitingReview" and new.get("reason") != old.get("reason") and old.get("reason"):
        lines.append(f"{PREFIX}{name}: back in review{_why(new)}{tail}")
    lines.extend(_review_lines(name, _review(before), _review(after), tail))
    return lines


def _created(name: str, run: Body, tail: str) -> list[str]:
    spec = run.get("spec") or {}
    metadata = run.get("metadata") or {}
    agent = (spec.get("agentRef") or {}).get("name")
    if spec.get("revisionOf"):
        return [f"{PREFIX}{name}: revision of {spec['revisionOf']} started (Agent {agent}){tail}"]
    edges = ((metadata.get("annotations") or {}).get(ANNOTATION_MESH_EDGE) or "").strip()
    mesh = (metadata.get("labels") or {}).get(LABEL_MESH)
    if (spec.get("trigger") or {}).get("kind") == "mesh" and edges and mesh:
        upstream = (metadata.get("annotations") or {}).get(ANNOTATION_UPSTREAM_RUNS) or "?"
        return [f"{MESH_PREFIX}{mesh}: edge {edges} fired after {upstream}: created {name} (Agent {agent}){tail}"]
    return [f"{PREFIX}{name}: created (Agent {agent})"]


def _review_lines(name: str, old: Mapping[str, Any], new: Mapping[str, Any], tail: str) -> list[str]:
    lines = []
    if new.get("number") and not old.get("number"):
        lines.append(f"{PREFIX}{name}: pull request #{new['number']} opened{tail}")
    state = new.get("state")
    by = f" by {new['decidedBy']}" if new.get("decidedBy") else ""
    if state != old.get("state") and state in ("merged", "closed"):
        lines.append(f"{PREFIX}{name}: pull request #{new.get('number')} {state}{by}{tail}")
    if new.get("revisionRun") and new.get("revisionRun") != old.get("revisionRun"):
        lines.append(f"{PREFIX}{name}: changes requested{by}; revision {new['revisionRun']} addresses them{tail}")
    return lines


class Narrator:
    """Watches the AgentRuns of `namespace` and `say`s what changes (see `narrate`)."""

    def __init__(
        self,
        api: ApiClient,
        namespace: str,
        say: Callable[[str], None],
        told_elsewhere: Callable[[Body], bool] = lambda run: False,
    ) -> None:
        self._api = api
        self._path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/agentruns"
        self._say = say
        self._told_elsewhere = told_elsewhere  # runs someone else reports (the demo's own)
        self._runs: dict[str, Body] = {}
        self._pull_urls: dict[str, str] = {}

    def observe(self, event_type: str, run: Body) -> None:
        name = str((run.get("metadata") or {}).get("name"))
        if event_type == "DELETED":
            self._runs.pop(name, None)
            return
        if not self._told_elsewhere(run):
            for line in narrate(self._runs.get(name), run, self._pull_urls):
                self._say(line)
        self._remember(name, run)

    def _remember(self, name: str, run: Body) -> None:
        self._runs[name] = run
        url = pull_url(run, self._pull_urls)
        if url:
            self._pull_urls[name] = url

    async def _relist(self, baseline: bool) -> str:
        listing = await self._api.request("GET", self._path)
        for run in listing.get("items") or []:
            name = str((run.get("metadata") or {}).get("name"))
            if baseline:
                self._remember(name, run)
            else:  # changes missed while the watch was down are news
                self.observe("MODIFIED" if name in self._runs else "ADDED", run)
        return str((listing.get("metadata") or {}).get("resourceVersion", ""))

    async def run(self) -> None:
        """Until cancelled."""
        version, baseline = "", True
        warned = ""  # the last refusal told the user: a 401/403 is theirs to fix, said once, not per retry
        while True:
            try:
                if not version:
                    version, baseline = await self._relist(baseline), False
                params = {"resourceVersion": version, "timeoutSeconds": str(WATCH_TIMEOUT_SECONDS)}
                async for event in self._api.watch(self._path, params):
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR":  # expired: list again
                        version = ""
                        break
                    version = (obj.get("metadata") or {}).get("resourceVersion", version)
                    if event.get("type") != "BOOKMARK":
                        self.observe(str(event.get("type")), obj)
            except ApiStatusError as error:
                if error.code == 410:
                    log.debug("agentrun watch expired: %s", error)
                elif str(error) != warned:
                    warned = str(error)
                    log.warning("cannot follow runs (narration paused until this is fixed): %s", error)
                version = "" if error.code == 410 else version
                await asyncio.sleep(RECONNECT_SECONDS)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                log.debug("agentrun watch interrupted: %s", error)
                await asyncio.sleep(RECONNECT_SECONDS)
