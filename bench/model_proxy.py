"""What the model proxy adds to a model call: latency of small answers and of streamed ones, direct to
the Anthropic emulator versus through `atomesh model-proxy` (a separate process, as in a runner pod).
Run by hand:

python -m bench.model_proxy [REQUESTS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anthropic

from atomesh.api import constants as k
from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.runner.modelproxy import wait_for_proxy

MODEL = "claude-sonnet-4-5"
CASSETTE = {"turns": [], "default": {"text": "word " * 200}}


def start_proxy(root: Path, upstream: str) -> tuple[subprocess.Popen[bytes], str, str]:
    run_file = root / k.RUN_FILE_NAME
    run_file.write_text(
        json.dumps(
            {
                "namespace": "bench",
                "run": "bench-1",
                "runUid": "u",
                "agent": "bench",
                "agentRevision": "inline@0",
                "specHash": "0",
                "spec": {
                    "purpose": "p",
                    "instructions": "i",
                    "output": {"artifact": "doc"},
                    "workspace": {"repo": "a/b"},
                    "harness": {"kind": "litellm", "model": MODEL},
                    "limits": {"timeout": "1h"},
                },
                "input": {},
                "trigger": {"kind": "manual"},
                "branch": "atomesh/bench/bench-1",
            }
        )
    )
    env = {
        **os.environ,
        k.ENV_MODEL_API_KEY: "sk-ant-bench",
        k.ENV_MODEL_UPSTREAM_URL: upstream,
        k.ENV_MODEL_PROXY_DIR: str(root / "model"),
        k.ENV_RUN_FILE: str(run_file),
    }
    process = subprocess.Popen([sys.executable, "-m", "atomesh", "model-proxy"], env=env, stderr=subprocess.DEVNULL)
    endpoint = wait_for_proxy(root / "model", timeout=30)
    return process, endpoint.url, endpoint.token


def measure(client: anthropic.Anthropic, requests: int, stream: bool) -> list[float]:
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        if stream:
            with client.messages.stream(
                model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
            ) as s:
                s.get_final_message()
        else:
            client.messages.create(model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": "hi"}])
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    emulator = AnthropicEmulator(CASSETTE).start()
    with tempfile.TemporaryDirectory() as tmp:
        process, url, token = start_proxy(Path(tmp), emulator.url)
        try:
            direct = anthropic.Anthropic(base_url=emulator.url, api_key="sk-ant-bench", max_retries=0)
            proxied = anthropic.Anthropic(base_url=url, api_key=token, max_retries=0)
            for stream in (False, True):
                kind = "streamed" if stream else "JSON"
                for label, client in (("direct", direct), ("via proxy", proxied)):
                    measure(client, 10, stream)  # warm up connections
                    times = measure(client, requests, stream)
                    p50 = statistics.median(times) * 1000
                    p95 = statistics.quantiles(times, n=20)[18] * 1000
                    print(f"{kind:8} {label:9}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({requests} requests)")
        finally:
            process.terminate()
            process.wait(timeout=10)
            emulator.stop()


if __name__ == "__main__":
    main()
