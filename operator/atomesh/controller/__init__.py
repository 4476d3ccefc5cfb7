"""The operator: controllers that observe Kubernetes, ask `atomesh.core` for a plan and apply it
through the ports (`atomesh.kube`, `atomesh.forge`); plus the webhook ingress and the metrics server.
No decision is taken here that a pure function in `core` could take.

The one reconcile contract; a new controller (an event trigger, a context source) follows it:

1. **Watch → request.** Event handlers only map an event to the objects it concerns and enqueue
   them: `ctx.workers.enqueue("<controller>", namespace, name)` (`after=` for a follow-up that
   should coalesce over a delay). They never reconcile, never raise, and kopf's own retry
   (`TemporaryError`) plays no part: requeueing is the work queue's. AgentRun events come from
   `ctx.run_events` (`controller.runfeed`: atomesh's informer, the kind with thousands of objects);
   every other kind's from kopf's handlers. On start, every object seen in the initial LIST is
   enqueued (kopf's resume handlers; the run feed's events of type None), so a restarted
   operator reconciles everything once, new work before old.
2. **Reconcile = read → plan → apply**, registered once with
   `ctx.workers.register("<controller>", reconcile)`, called as `reconcile(namespace, name)`:
   read what it needs through the ports (`ctx.kube`, never kopf's body: a watch-fed cache may
   replace these reads), ask a pure planner in `core` for a `core.plan.Plan` (status, actions,
   events, requeue), and perform it with `controller.apply.apply` — creates are create-or-get,
   the status is written only when it changed, Events are posted after the writes.
3. **Error kinds decide the requeue** (`controller.reconciler.Workers.reconcile`): `Waiting` → again
   after its delay; `Transient`, `KubeError`, `ForgeError` (and bugs) → again after the key's own
   growing backoff; `Stalled` → not again until the object changes; success forgets the backoff.
   A planner puts the error in `Plan.requeue` after writing why into the status, or raises it. A
   bug is answered on the object once per error (`Reconciling=True/ReconcileError`, one Warning
   Event, one traceback in the log; `controller.apply.ErrorAnswers`), and withdrawn on success.
4. **One work queue** (`controller.workqueue`, client-go's semantics): one worker per request at a
   time, bursts coalesce, a request added while it is reconciled runs once more after, shutdown
   drains. A fixed pool of worker threads runs every controller's reconciles.
"""
