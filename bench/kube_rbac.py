"""Benchmark of the API emulator's access control; run by hand from the repository root:
`python -m bench.kube_rbac`.

Prints: RBAC decisions/s (allowed and denied) with many namespaces and bindings, in process; and the
latency of GET requests (p50/p99) from one client to a server without access control (http) and to
one with authentication and RBAC (https, a user with a RoleBinding, not system:masters).
"""

from __future__ import annotations

import argparse
import http.client
import time

from atomesh.devstack.kube import KubeAPIServer
from atomesh.devstack.kube.access import AccessOptions
from atomesh.devstack.kube.authn import StaticToken
from atomesh.devstack.kube.pki import ClusterPKI
from atomesh.devstack.kube.rbac import Authorizer
from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo

USER = StaticToken("bench-token", "bench", "bench", ("bench-team",))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _bind(server: KubeAPIServer, namespaces: int) -> None:
    cluster = server.api.cluster
    ns_info = cluster.registry.get("", "v1", "namespaces")
    rb_info = cluster.registry.get("rbac.authorization.k8s.io", "v1", "rolebindings")
    assert ns_info is not None
    assert rb_info is not None
    for n in range(namespaces):
        name = f"team-{n}"
        server.call(lambda name=name: _async(cluster.create, ns_info, "", {"metadata": {"name": name}}))
        for role in ("view", "edit", "admin"):
            body = {
                "metadata": {"name": f"{role}-{n}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "Group", "name": f"group-{n}-{role}"}],
            }
            server.call(lambda name=name, body=body: _async(cluster.create, rb_info, name, body))


async def _async(function: object, *args: object) -> object:
    return function(*args)  # type: ignore[operator]


def decisions(namespaces: int, count: int) -> None:
    with KubeAPIServer(access=AccessOptions()) as server:
        _bind(server, namespaces)
        authorizer = Authorizer(server.api.store)
        user = UserInfo("alice", (f"group-{namespaces - 1}-edit", "system:authenticated"))
        for namespace, label in ((f"team-{namespaces - 1}", "allowed"), ("team-0", "denied")):
            asked = Attributes(user, "create", True, namespace=namespace, resource="pods")
            start = time.perf_counter()
            results = {authorizer.authorize(asked).allowed for _ in range(count)}
            rate = count / (time.perf_counter() - start)
            print(f"RBAC decisions ({label}, {namespaces} namespaces x 3 bindings): {rate:,.0f}/s  {results}")


def latency(count: int) -> None:
    with KubeAPIServer() as plain:
        times = _gets(plain.url, count, None, None)
        print(f"GET latency without access control (http): p50 {_pct(times, 50):.2f} ms, p99 {_pct(times, 99):.2f} ms")
    pki = ClusterPKI()
    with KubeAPIServer(tls=pki.server_context(), access=AccessOptions(tokens={USER.token: USER})) as secured:
        rb = secured.api.cluster.registry.get("rbac.authorization.k8s.io", "v1", "rolebindings")
        assert rb is not None
        body = {
            "metadata": {"name": "bench-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "bench-team"}],
        }
        secured.call(lambda: _async(secured.api.cluster.create, rb, "default", body))
        times = _gets(secured.url, count, USER.token, pki)
        print(f"GET latency with token + RBAC (https): p50 {_pct(times, 50):.2f} ms, p99 {_pct(times, 99):.2f} ms")


def _gets(url: str, count: int, token: str | None, pki: ClusterPKI | None) -> list[float]:
    """One kept-alive connection, as clients keep theirs: the TLS handshake is paid once."""
    host, port = url.split("://", 1)[1].split(":")
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(host, int(port), context=pki.client_context())
        if pki is not None
        else http.client.HTTPConnection(host, int(port))
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("GET", "/api/v1/namespaces/default/configmaps", headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            times.append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()
    return times[count // 10 :] or times  # the first tenth warms up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    decisions(args.namespaces, args.decisions)
    latency(args.requests)


if __name__ == "__main__":
    main()
