"""The one guard every handler runs its reconcile through: error kinds become kopf's requeue.

`guarded(...)` is how every kopf handler of every controller calls its reconcile step:

- `core.requeue.Waiting` → looked at again after its delay (kopf.TemporaryError with that delay);
- `core.requeue.Transient`, `KubeError`, `ForgeError` → counted as a reconcile error and retried
  with the retry policy's backoff for kopf's `retry` count;
- `core.requeue.Stalled` → counted and logged, not retried: the object's next change is its next
  reconcile.

Handlers that kopf never retries (event handlers, timers: the next event or tick is the retry)
pass `retried=False`: failures are counted and logged instead of raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import kopf

from atomesh.controller.context import OperatorContext
from atomesh.core.requeue import DEFAULT_RETRY, RetryPolicy, Stalled, Transient, Waiting
from atomesh.forge.errors import ForgeError
from atomesh.kube.client import KubeError

log = logging.getLogger(__name__)


def guarded(
    ctx: OperatorContext,
    controller: str,
    what: str,
    step: Callable[[], None],
    *,
    retry: int = 0,
    retried: bool = True,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> None:
    """Run `step` (reconciling `what`, e.g. "agentrun team-a/fix-1") and map its failure to a requeue."""
    try:
        step()
    except Waiting as waiting:
        if retried:
            raise kopf.TemporaryError(str(waiting), delay=waiting.after) from waiting
        log.info("%s %s: %s", controller, what, waiting)
    except Stalled as stalled:
        ctx.metrics.reconcile_error(controller)
        log.warning("%s %s is stalled: %s", controller, what, stalled)
    except (Transient, KubeError, ForgeError) as error:
        ctx.metrics.reconcile_error(controller)
        if retried:
            raise kopf.TemporaryError(str(error), delay=policy.delay(retry)) from error
        log.info("%s %s: %s (the next event retries)", controller, what, error)
