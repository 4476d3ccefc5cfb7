"""Who may start a run from a GitHub delivery: `authorise` decides, from the delivery's facts and, only
when they cannot tell (`needs_permission`), the sender's repository permission.

Invariants:
- Bots never pass unless the rule allows bots, and are refused quietly (no reply), so bots never talk
  to each other.
- A sender passes with any of: `permission: none`, a login on `users`, an allowed author association,
  or at least `permission` on the repository. A generic webhook (no rule) is authorised by its signature.
"""

from __future__ import annotations

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


def authorise(rule: TriggerAuthorization | None, facts: Facts, permission: str | None = None) -> Refusal | None:
    """None when the sender may trigger; `permission` is GitHub's (none, read, triage, write, maintain, admin)."""
    if rule is None:
        return None  # a signed generic webhook: its signature is its authorisation
    quick = _quick_verdict(rule, facts)
    if quick is True:
        return None
    if isinstance(quick, Refusal):
        return quick
    have = permission or "none"
    rank = PERMISSIONS.index(have) if have in PERMISSIONS else 0
    if rank >= PERMISSIONS.index(rule.permission):
        return None
    return Refusal(f"@{facts.sender} needs {rule.permission} access to {facts.repo} (has {have})")
