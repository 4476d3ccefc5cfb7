"""The operator: thin kopf handlers that observe Kubernetes, ask `atomesh.core` for a plan and apply
it through the ports (`atomesh.kube`, `atomesh.forge`); plus the webhook ingress and the metrics server.
No decision is taken here that a pure function in `core` could take."""
