"""kube-apiserver's Table printers for the built-in kinds the emulator serves.

Written after kubernetes `pkg/printers/internalversion/printers.go` (`AddHandlers` and the
`print<Kind>` functions): column names, types, formats and priorities, and the cells. The server
always prints wide (`pkg/printers/storage`, `GenerateOptions{Wide: true}`), so priority-1 cells
are always present and kubectl hides them unless `-o wide`. AGE is a `string` column whose cell
the server computes (`translateTimestampSince`, `<unknown>` without a timestamp).

Kinds whose registry sets no printer (roles, clusterroles, CRDs) use the default convertor
(apiserver `pkg/registry/rest/table.go`): Name and a `date` column "Created At" in RFC 3339.
Descriptions are short forms of the API types' documentation (kubectl never shows them).

Known gap: the Job printer is that of the printers.go read (COMPLETIONS, DURATION); a newer
server's extra Job columns, if any, are not emulated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from atomesh.devstack.kube import timestamps
from atomesh.devstack.kube.pod_printer import POD
from atomesh.devstack.kube.printing import (
    AGE,
    CREATED_AT,
    NAME,
    Cells,
    Column,
    Obj,
    Printer,
    age_of,
    containers,
    format_label_selector,
    get,
    human_duration,
    name_of,
    since,
)

__all__ = ["PRINTERS", "Printer", "human_duration"]


# events ----------------------------------------------------------------------------------------------
def _as_core_event(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event in core/v1 field names: both are printed from the same internal type."""
    if "regarding" not in event and "note" not in event and not str(event.get("apiVersion", "")).startswith("events"):
        return event
    return {
        "metadata": event.get("metadata") or {},
        "involvedObject": event.get("regarding") or {},
        "message": event.get("note", ""),
        "type": event.get("type", ""),
        "reason": event.get("reason", ""),
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "count": event.get("deprecatedCount", 0),
        "source": event.get("deprecatedSource") or {},
        "eventTime": event.get("eventTime"),
        "series": event.get("series"),
        "reportingComponent": event.get("reportingController", ""),
        "reportingInstance": event.get("reportingInstance", ""),
    }


def _event_cells(original: Obj) -> Cells:
    event = _as_core_event(original)
    first = since(event.get("firstTimestamp")) if event.get("firstTimestamp") else since(event.get("eventTime"))
    last = since(event.get("lastTimestamp")) if event.get("lastTimestamp") else first
    count = int(event.get("count") or 0)
    if event.get("series") is not None:
        last = since(get(event, "series", "lastObservedTime"))
        count = int(get(event, "series", "count") or 0)
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {instance}" if instance else component,
        str(event.get("message", "")).strip(),
        first,
        count,
        name_of(event),
    ]


EVENT = Printer(
    (
        Column("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
        Column("Type", description="Type of this event (Normal, Warning)."),
        Column("Reason", description="A short, machine understandable string that gives the reason for this event."),
        Column("Object", description="The object that this event is about."),
        Column("Subobject", priority=1, description="The field of the object this event is about."),
        Column("Source", priority=1, description="The component reporting this event."),
        Column("Message", description="A human-readable description of the status of this operation."),
        Column("First Seen", priority=1, description="The time at which the event was first recorded."),
        Column("Count", priority=1, description="The number of times this event has occurred."),
        Column("Name", priority=1, format="name", description=NAME.description),
    ),
    _event_cells,
)


# the other kinds -------------------------------------------------------------------------------------
def _subjects(binding: Obj) -> list[str]:
    users, groups, service_accounts = [], [], []
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), str(subject.get("name", ""))
        if kind == "ServiceAccount":
            service_accounts.append(f"{subject.get('namespace', '')}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [", ".join(users), ", ".join(groups), ", ".join(service_accounts)]


def _binding_cells(binding: Obj) -> Cells:
    ref = binding.get("roleRef") or {}
    return [name_of(binding), f"{ref.get('kind', '')}/{ref.get('name', '')}", age_of(binding), *_subjects(binding)]


def _binding(kind: str) -> Printer:
    return Printer(
        (
            NAME,
            Column("Role", description="RoleRef references a Role or ClusterRole."),
            AGE,
            Column("Users", priority=1, description=f"Users in the {kind}"),
            Column("Groups", priority=1, description=f"Groups in the {kind}"),
            Column("ServiceAccounts", priority=1, description=f"ServiceAccounts in the {kind}"),
        ),
        _binding_cells,
    )


def _service_external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        ingress = get(service, "status", "loadBalancer", "ingress") or []
        balancers = sorted({str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")})
        return ",".join([*balancers, *external]) or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_cells(service: Obj) -> Cells:
    spec = service.get("spec") or {}
    ports = ",".join(
        f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        if p.get("nodePort")
        else f"{p.get('port')}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    return [
        name_of(service),
        spec.get("type", ""),
        (spec.get("clusterIPs") or ["<none>"])[0],
        _service_external_ip(service),
        ports or "<none>",
        age_of(service),
        selector or "<none>",
    ]


def _deployment_cells(deployment: Obj) -> Cells:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    names, images = containers(get(spec, "template", "spec"))
    return [
        name_of(deployment),
        f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
        int(status.get("updatedReplicas") or 0),
        int(status.get("availableReplicas") or 0),
        age_of(deployment),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _job_cells(job: Obj) -> Cells:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = (timestamps.parse(status.get(k) or "") for k in ("startTime", "completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((end or datetime.now(UTC)) - start).total_seconds())
    names, images = containers(get(spec, "template", "spec"))
    return [
        name_of(job),
        completions,
        duration,
        age_of(job),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _node_cells(node: Obj) -> Cells:
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    states = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if get(node, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (get(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.removeprefix("node-role.kubernetes.io/"):
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        return next((str(a.get("address")) for a in status.get("addresses") or [] if a.get("type") == kind), "<none>")

    return [
        name_of(node),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        age_of(node),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _simple(*columns: Column, cells: Callable[[Obj], Cells]) -> Printer:
    return Printer((NAME, *columns), lambda obj: [name_of(obj), *cells(obj)])


def _match_labels(selector: Obj) -> str:
    """metav1.FormatLabelSelector for a matchLabels-only selector: k=v pairs sorted by key, or <none>."""
    labels = selector.get("matchLabels") or {}
    if selector.get("matchExpressions"):
        raise ValueError("printing matchExpressions of a NetworkPolicy's podSelector is not emulated")
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels)) or "<none>"


DEFAULT = Printer((NAME, CREATED_AT), lambda obj: [name_of(obj), get(obj, "metadata", "creationTimestamp")])
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "pods"): POD,
    ("", "events"): EVENT,
    ("events.k8s.io", "events"): EVENT,
    ("", "namespaces"): _simple(
        Column("Status", description="The status of the namespace"),
        AGE,
        cells=lambda o: [get(o, "status", "phase") or "", age_of(o)],
    ),
    ("", "configmaps"): _simple(
        Column("Data", description="Data contains the configuration data."),
        AGE,
        cells=lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age_of(o)],
    ),
    ("", "secrets"): _simple(
        Column("Type", description="Used to facilitate programmatic handling of secret data."),
        Column("Data", description="Data contains the secret data."),
        AGE,
        cells=lambda o: [o.get("type", ""), len(o.get("data") or {}), age_of(o)],
    ),
    ("", "serviceaccounts"): _simple(
        Column("Secrets", description="Secrets is a list of the secrets in the same namespace."),
        AGE,
        cells=lambda o: [len(o.get("secrets") or []), age_of(o)],
    ),
    ("", "services"): Printer(
        (
            NAME,
            Column("Type", description="type determines how the Service is exposed."),
            Column("Cluster-IP", description="clusterIP is the IP address of the service."),
            Column("External-IP", description="externalIPs is a list of IP addresses for which nodes accept traffic."),
            Column("Port(s)", description="The list of ports that are exposed by this service."),
            AGE,
            Column("Selector", priority=1, description="Route service traffic to pods with these labels."),
        ),
        _service_cells,
    ),
    ("", "nodes"): Printer(
        (
            NAME,
            Column("Status", description="The status of the node"),
            Column("Roles", description="The roles of the node"),
            AGE,
            Column("Version", description="Kubelet Version reported by the node."),
            Column("Internal-IP", priority=1, description="List of addresses reachable to the node."),
            Column("External-IP", priority=1, description="List of addresses reachable to the node."),
            Column("OS-Image", priority=1, description="OS Image reported by the node."),
            Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
            Column("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node."),
        ),
        _node_cells,
    ),
    ("apps", "deployments"): Printer(
        (
            NAME,
            Column("Ready", description="Number of the pod with ready state"),
            Column("Up-to-date", description="Total number of non-terminated pods with the desired template spec."),
            Column("Available", description="Total number of available pods."),
            AGE,
            Column("Containers", priority=1, description="Names of each container in the template."),
            Column("Images", priority=1, description="Images referenced by each container in the template."),
            Column("Selector", priority=1, description="Label selector for pods."),
        ),
        _deployment_cells,
    ),
    ("batch", "jobs"): Printer(
        (
            NAME,
            Column("Completions", description="The number of pods which reached phase Succeeded."),
            Column("Duration", description="Time required to complete the job."),
            AGE,
            Column("Containers", priority=1, description="Names of each container in the template."),
            Column("Images", priority=1, description="Images referenced by each container in the template."),
            Column("Selector", priority=1, description="A label query over pods that should match the pod count."),
        ),
        _job_cells,
    ),
    ("coordination.k8s.io", "leases"): _simple(
        Column("Holder", description="holderIdentity contains the identity of the holder of a current lease."),
        AGE,
        cells=lambda o: [get(o, "spec", "holderIdentity") or "", age_of(o)],
    ),
    ("networking.k8s.io", "networkpolicies"): _simple(
        Column("Pod-Selector", description="Backwards compatible with PodSelector.MatchLabels."),
        AGE,
        cells=lambda o: [_match_labels(get(o, "spec", "podSelector") or {}), age_of(o)],
    ),
    ("rbac.authorization.k8s.io", "rolebindings"): _binding("roleBinding"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _binding("clusterRoleBinding"),
    ("rbac.authorization.k8s.io", "roles"): DEFAULT,
    ("rbac.authorization.k8s.io", "clusterroles"): DEFAULT,
    ("apiextensions.k8s.io", "customresourcedefinitions"): DEFAULT,
}
