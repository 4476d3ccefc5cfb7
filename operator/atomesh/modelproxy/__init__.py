"""The model proxy: the runner pod's sidecar that holds the real model key.

The agent step gets the proxy's loopback URL and a per-run token (files on a volume only the proxy and
the agent step mount); the proxy checks the token, enforces the run's model, token and cost limits
(`atomesh.core.modelgrant`) and forwards the Anthropic Messages API, streaming included, with the real
key added on the way out.
"""
