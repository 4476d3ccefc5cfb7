"""What a run's model requests carry for an LLM gateway's spend attribution.

Pure. When `spec.harness.gateway` is `litellm` (the model endpoint is a LiteLLM proxy), the model proxy
adds to every request the headers the LiteLLM proxy reads (litellm/proxy/litellm_pre_call_utils.py):

- `x-litellm-trace-id`: the run's uid, so the gateway's spend logs group a run's requests
  (`litellm_trace_id`) and a retried or resumed run stays apart from the one before;
- `x-litellm-spend-logs-metadata`: JSON `{agent, namespace, mesh, run}`, kept as the spend log's
  `metadata.spend_logs_metadata`;
- `x-litellm-tags`: `atomesh-agent:<agent>`, `atomesh-namespace:<namespace>` and `atomesh-mesh:<mesh>`
  (the proxy's spend-per-tag reports).

Headers rather than body fields: the Anthropic Messages API's `metadata` takes `user_id` only, so the
body is forwarded as the harness wrote it. No value is a credential; names are Kubernetes names.
"""

from __future__ import annotations

import json

from atomesh.api.runfile import RunFile

TRACE_ID = "x-litellm-trace-id"
SPEND_LOGS_METADATA = "x-litellm-spend-logs-metadata"
TAGS = "x-litellm-tags"


def gateway_headers(run: RunFile) -> dict[str, str]:
    """The headers for the run's gateway; empty unless it is a LiteLLM proxy."""
    if run.spec.harness.gateway != "litellm":
        return {}
    identity = {"agent": run.agent, "namespace": run.namespace, "mesh": run.mesh, "run": run.run}
    tags = [f"atomesh-{key}:{value}" for key, value in identity.items() if value and key != "run"]
    headers = {
        SPEND_LOGS_METADATA: json.dumps({key: value for key, value in identity.items() if value}, sort_keys=True),
        TAGS: ",".join(tags),
    }
    if run.run_uid:
        headers[TRACE_ID] = run.run_uid
    return headers
