"""The API server's `pods/log` hook, answered by a kubelet over HTTP.

A real API server proxies `pods/log` to the kubelet's endpoint; `HttpLogSource` does the same
for the emulator (`set_log_source(app, HttpLogSource(kubelet_url))`), so the kubelet may run
in another thread, event loop or process than the API server. It lives with the API server
(`atomesh.devstack.kube.logproxy`, which also finds a kubelet through its Node); kept here for
the kubelet's users.
"""

from atomesh.devstack.kube.logproxy import HttpLogSource

__all__ = ["HttpLogSource"]
