"""Who may start a run from a GitHub delivery: `authorise` decides, from the delivery's facts and, only
when they cannot tell (`needs_permission`), the sender's repository permission, and only when that is
not enough (`teams_to_ask`), the sender's membership of the rule's teams.

Invariants:
- Bots never pass unless the rule allows bots, and are refused quietly (no reply), so bots never talk
  to each other.
- A sender passes with any of: `permission: none`, a login on `users`, an allowed author association,
  at least `permission` on the repository, or active membership of one of `teams` (a pending invitation
  does not count). Teams are asked about last, so a writer costs no membership lookup. A generic
  webhook (no rule) is authorised by its signature.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from atomesh.api.triggers import PERMISSIONS, TriggerAuthorization
from atomesh.core.triggers_github import Facts


@dataclass(frozen=True)
class Refusal:
    """Why a sender may not trigger; `quiet` ones (bots) get no reply, so bots never talk to each other."""

    message: str
    quiet: bool = False


def _quick_verdict(rule: TriggerAuthorization, facts: Facts) -> Refusal | bool | None:
    """A refusal, True (allowed), or None when only the sender's repository permission can tell."""
    if facts.sender_is_bot and not rule.allow_bots:
        return Refusal(f"{facts.sender} is a bot and bots may not trigger", quiet=True)
    if rule.permission == "none" or facts.sender in rule.users:
        return True
    if facts.association and facts.association in rule.author_associations:
        return True
    if not facts.sender:
        return Refusal("the delivery names no sender")
    return None


def needs_permission(rule: TriggerAuthorization, facts: Facts) -> bool:
    """Whether `authorise` needs the sender's repository permission (a forge lookup)."""
    return _quick_verdict(rule, facts) is None


def _permitted(rule: TriggerAuthorization, permission: str | None) -> bool:
    have = permission or "none"
    rank = PERMISSIONS.index(have) if have in PERMISSIONS else 0
    return rank >= PERMISSIONS.index(rule.permission)


def teams_to_ask(rule: TriggerAuthorization, facts: Facts, permission: str | None) -> tuple[str, ...]:
    """The teams (org/slug) whose membership still decides, in the rule's order; () when nothing does."""
    if _quick_verdict(rule, facts) is not None or _permitted(rule, permission):
        return ()
    return tuple(rule.teams)


def authorise(
    rule: TriggerAuthorization | None,
    facts: Facts,
    permission: str | None = None,
    member_of: Collection[str] = (),
) -> Refusal | None:
    """None when the sender may trigger; `permission` is GitHub's (none, read, triage, write, maintain,
    admin), `member_of` the rule's teams the sender is an active member of."""
    if rule is None:
        return None  # a signed generic webhook: its signature is its authorisation
    quick = _quick_verdict(rule, facts)
    if quick is True:
        return None
    if isinstance(quick, Refusal):
        return quick
    if _permitted(rule, permission) or any(team in member_of for team in rule.teams):
        return None
    message = f"@{facts.sender} needs {rule.permission} access to {facts.repo} (has {permission or 'none'})"
    if rule.teams:
        message += f" or membership of {', '.join(rule.teams)}"
    return Refusal(message)
