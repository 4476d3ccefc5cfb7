"""kube-apiserver's Table printer for pods: READY, STATUS, RESTARTS (with the last restart), AGE and
the wide IP, NODE, NOMINATED NODE and READINESS GATES.

After kubernetes `pkg/printers/internalversion/printers.go` (`printPod`). Restartable init
containers (sidecars) are printed as plain init containers.
"""

from __future__ import annotations

from datetime import datetime

from atomesh.devstack.kube import timestamps
from atomesh.devstack.kube.printing import AGE, NAME, Cells, Column, Obj, Printer, age_of, get, name_of, since


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _pod_cells(pod: Obj) -> Cells:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarts, ready, total = 0, 0, len(spec.get("containers") or [])
    last_restart: datetime | None = None
    reason = str(status.get("reason") or status.get("phase") or "")

    def note_restart(container: Obj) -> None:
        nonlocal last_restart
        finished = get(container, "lastState", "terminated", "finishedAt")
        when = timestamps.parse(finished) if isinstance(finished, str) else None
        if when is not None and (last_restart is None or when > last_restart):
            last_restart = when

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, container in enumerate(init_statuses):
        restarts += int(container.get("restartCount") or 0)
        note_restart(container)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    if not initializing:
        restarts, has_running = 0, False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            note_restart(container)
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conditions = status.get("conditions") or []
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"
    if get(pod, "metadata", "deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif get(pod, "metadata", "deletionTimestamp"):
        reason = "Terminating"
    restart_text = str(restarts)
    if last_restart is not None:
        restart_text = f"{restarts} ({since(timestamps.format_time(last_restart))} ago)"
    ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        gates_text = f"{sum(1 for g in gates if conditions.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restart_text,
        age_of(pod),
        (ips[0].get("ip") if ips else status.get("podIP")) or "<none>",  # the server keeps podIP == podIPs[0]
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


POD = Printer(
    (
        NAME,
        Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column("Restarts", description="The number of times the containers in this pod have been restarted."),
        AGE,
        Column("IP", priority=1, description="IP address allocated to the pod."),
        Column("Node", priority=1, description="NodeName is the node the pod is scheduled onto."),
        Column("Nominated Node", priority=1, description="The node the scheduler nominated for preemption."),
        Column("Readiness Gates", priority=1, description="Pod conditions evaluated for readiness."),
    ),
    _pod_cells,
)
