"""The one plan type: what a reconcile wants done, decided in `core`, performed by `controller.apply`.

Every controller reads what it needs, asks a pure planner here for a `Plan`, and applies it with the
one apply step. A plan is about one object, the one reconciled (its kind, namespace and name are the
apply step's arguments); every action names an object in that object's namespace.

Invariants the apply step keeps, so that applying a plan twice (an operator killed half-way, an
object planned on every event) does what applying it once did:

- `Create` is create-or-get: AlreadyExists is success. Its `on_created` (an Event, a comment) happens
  only when this create made the object, so it happens once across repeats.
- `Patch` is a JSON merge patch; its event is posted only when the object was there to patch.
- `Delete` of an object already gone is success.
- `status` is the whole status wanted, in its wire form; only the difference from the status read
  is written, and nothing when there is none. `None` leaves the status alone.
- `events` are posted after the writes; planners emit them from a change (old vs. new status), so a
  plan of an object already in its wanted state carries none.
- `requeue`, an error kind of `core.requeue`, is raised after everything else was applied: the
  status written first says why, the error kind says when the object is looked at again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from atomesh.core.requeue import ReconcileError

EventType = Literal["Normal", "Warning"]


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event about the reconciled object; `reason` is a constant of `api.conditions`."""

    type: EventType
    reason: str
    message: str


@dataclass(frozen=True)
class Comment:
    """A comment on a pull request (the review loop's voice on the forge)."""

    repo: str
    number: int
    body: str


@dataclass(frozen=True)
class ClosePullRequest:
    repo: str
    number: int


@dataclass(frozen=True)
class Create:
    """Create `manifest` (apiVersion, kind, metadata.name; created in the reconciled object's namespace).

    `owned` makes the reconciled object its controlling owner (deleted with it); `on_created` is what
    follows only a create that made the object: its Event, a comment announcing it."""

    manifest: Mapping[str, Any]
    owned: bool = False
    on_created: tuple[Event | Comment, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.manifest["kind"])

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])


@dataclass(frozen=True)
class Patch:
    """A merge patch of object `kind`/`name`; `event` is posted only when the object existed."""

    kind: str
    name: str
    patch: Mapping[str, Any]
    event: Event | None = None


@dataclass(frozen=True)
class Delete:
    kind: str
    name: str


Action = Create | Patch | Delete | Comment | ClosePullRequest


@dataclass(frozen=True)
class Plan:
    """Actions in order, then the status, then the events, then the requeue."""

    status: Mapping[str, Any] | None = None
    actions: tuple[Action, ...] = ()
    events: tuple[Event, ...] = ()
    requeue: ReconcileError | None = None


def status_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch turning status `old` into `new`: keys that disappeared, at any depth, are set to
    null (a merge patch merges nested objects, so leaving a key out would keep it)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(before, Mapping) and isinstance(value, Mapping):
            patch[key] = status_patch(before, value)
        else:
            patch[key] = value
    patch.update({key: None for key in old if key not in new})
    return patch
