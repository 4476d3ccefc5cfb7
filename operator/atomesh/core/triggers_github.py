"""What a GitHub delivery says, read once from its payload, and whether a `github` trigger matches it.

Invariants:
- `read_facts` never raises on a payload of the wrong shape: a field it cannot find is empty, and an
  empty field fails every narrowing that needs it (a push without a ref matches no `branches`).
- Narrowing follows GitHub Actions' `on:`: `actions` are the payload's `action` (issue_comment counts
  `created` unless told otherwise); `branches` are the pushed branch, a pull request's base, or a check's
  head branch; `paths` are the files a push added, modified or removed; `labels` are the label just
  added on a `labeled` action, and the labels carried otherwise.
- An `issue_comment` trigger counts only a slash command: `/atomesh <agent> key=value ...`, or
  `/<command> key=value ...` when the trigger declares a command. Only the comment's first line is read.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atomesh.api.triggers import GitHubTrigger
from atomesh.core.globs import glob_regex

BOT_SUFFIX = "[bot]"
COMMAND_PREFIX = "atomesh"


@dataclass(frozen=True)
class Thread:
    """An issue or pull request a trigger replies on."""

    repo: str
    number: int

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class Facts:
    """The fields of a delivery that triggers narrow on, and its provenance."""

    event: str
    action: str = ""
    repo: str = ""
    sender: str = ""
    sender_is_bot: bool = False
    association: str = ""
    thread: Thread | None = None
    url: str = ""
    branch: str = ""
    head_branch: str = ""
    labels: tuple[str, ...] = ()
    added_label: str = ""
    files: tuple[str, ...] = ()
    conclusion: str = ""
    comment: str = ""
    comment_id: int = 0
    # The pull request the delivery is about (pull_request, check_*): its head branch and commit, whether
    # that branch lives in another repository (a fork), and the repository's default branch.
    pull_head: str = ""
    head_sha: str = ""
    from_fork: bool = False
    default_branch: str = ""


def _get(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _text(payload: Mapping[str, Any], path: str) -> str:
    value = _get(payload, path)
    return value if isinstance(value, str) else ""


def _number(payload: Mapping[str, Any], path: str) -> int:
    value = _get(payload, path)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _label_names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(item["name"]) for item in value if isinstance(item, Mapping) and isinstance(item.get("name"), str))


def _first_pull(value: Any) -> Mapping[str, Any]:
    """The first of a check's `pull_requests` (`pull-request-minimal`), or {}."""
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return {}


def _other_repository(head: Any, base: Any, key: str) -> bool:
    """Whether a pull request's head repository differs from its base's (a fork; a deleted fork is None)."""
    head_id, base_id = _get(head or {}, key), _get(base or {}, key)
    return head_id is None or head_id != base_id


def _pushed_files(payload: Mapping[str, Any]) -> tuple[str, ...]:
    files: set[str] = set()
    commits = payload.get("commits")
    for commit in commits if isinstance(commits, list) else []:
        if isinstance(commit, Mapping):
            for key in ("added", "modified", "removed"):
                changed = commit.get(key)
                if isinstance(changed, list):
                    files.update(path for path in changed if isinstance(path, str))
    return tuple(sorted(files))


def read_facts(event: str, payload: Mapping[str, Any]) -> Facts:
    """The facts of one GitHub delivery (see the module docstring for what each event gives)."""
    repo = _text(payload, "repository.full_name")
    sender = _text(payload, "sender.login")
    common: dict[str, Any] = {
        "event": event,
        "action": _text(payload, "action"),
        "repo": repo,
        "sender": sender,
        "sender_is_bot": _text(payload, "sender.type") == "Bot" or sender.endswith(BOT_SUFFIX),
        "added_label": _text(payload, "label.name"),
        "default_branch": _text(payload, "repository.default_branch"),
    }
    number = 0
    if event == "issues":
        number = _number(payload, "issue.number")
        common |= {
            "association": _text(payload, "issue.author_association"),
            "url": _text(payload, "issue.html_url"),
            "labels": _label_names(_get(payload, "issue.labels")),
        }
    elif event == "issue_comment":
        number = _number(payload, "issue.number")
        common |= {
            "association": _text(payload, "comment.author_association"),
            "url": _text(payload, "comment.html_url"),
            "comment": _text(payload, "comment.body"),
            "comment_id": _number(payload, "comment.id"),
        }
    elif event == "pull_request":
        number = _number(payload, "pull_request.number")
        common |= {
            "association": _text(payload, "pull_request.author_association"),
            "url": _text(payload, "pull_request.html_url"),
            "labels": _label_names(_get(payload, "pull_request.labels")),
            "branch": _text(payload, "pull_request.base.ref"),
            "head_branch": _text(payload, "pull_request.head.ref"),
            "pull_head": _text(payload, "pull_request.head.ref"),
            "head_sha": _text(payload, "pull_request.head.sha"),
            "from_fork": _other_repository(
                _get(payload, "pull_request.head"), _get(payload, "pull_request.base"), "repo.full_name"
            ),
        }
    elif event == "push":
        ref = _text(payload, "ref")
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
        common |= {
            "url": _text(payload, "compare"),
            "branch": branch,
            "head_branch": branch,
            "files": _pushed_files(payload),
        }
    elif event in ("check_run", "check_suite"):
        pull = _first_pull(_get(payload, f"{event}.pull_requests"))
        number = _number(pull, "number")
        head = "check_run.check_suite.head_branch" if event == "check_run" else "check_suite.head_branch"
        common |= {
            "pull_head": _text(pull, "head.ref"),
            "head_sha": _text(payload, f"{event}.head_sha"),
            "from_fork": bool(pull) and _other_repository(pull.get("head"), pull.get("base"), "repo.id"),
            "url": _text(payload, f"{event}.html_url") or _text(payload, f"{event}.url"),
            "branch": _text(payload, head),
            "head_branch": _text(payload, head),
            "conclusion": _text(payload, f"{event}.conclusion"),
        }
    thread = Thread(repo, number) if repo and number else None
    return Facts(thread=thread, **common)


def glob_match(patterns: Sequence[str], value: str) -> bool:
    return any(glob_regex(pattern).match(value) for pattern in patterns)


@dataclass(frozen=True)
class Command:
    """A slash command read from a comment: its `key=value` words, or why they could not be read."""

    args: Mapping[str, str]
    error: str = ""


def read_command(body: str, agent: str, command: str | None) -> Command | None:
    """The command addressed to `agent` on the comment's first line, or None when there is none."""
    lines = body.strip().splitlines()
    if not lines:
        return None
    try:
        words = shlex.split(lines[0])
    except ValueError as error:
        words = lines[0].split()
        if words[:2] == [f"/{COMMAND_PREFIX}", agent] or (command and words[:1] == [f"/{command}"]):
            return Command({}, f"cannot read the command: {error}")
        return None
    if words[:2] == [f"/{COMMAND_PREFIX}", agent]:
        rest = words[2:]
    elif command and words[:1] == [f"/{command}"]:
        rest = words[1:]
    else:
        return None
    args: dict[str, str] = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if not sep or not key:
            return Command({}, f"argument {word!r} is not key=value")
        args[key] = value
    return Command(args)


def narrowed_out(trigger: GitHubTrigger, facts: Facts, repo: str) -> bool:
    """True when the delivery is not one this trigger counts (before its CEL filter)."""
    if facts.event != trigger.event or facts.repo.lower() != repo.lower():
        return True
    actions = trigger.actions or (["created"] if trigger.event == "issue_comment" else [])
    if actions and facts.action not in actions:
        return True
    if trigger.labels:
        carried = (facts.added_label,) if facts.action == "labeled" else facts.labels
        if not set(carried) & set(trigger.labels):
            return True
    if trigger.branches and not (facts.branch and glob_match(trigger.branches, facts.branch)):
        return True
    if trigger.paths and not any(glob_match(trigger.paths, path) for path in facts.files):
        return True
    return bool(trigger.conclusions and facts.conclusion not in trigger.conclusions)
