"""`atomesh model-proxy`: the runner pod's model proxy process.

It reads the real key, the upstream URL and the run file from its own environment, mints the run's
token, listens on loopback (a free port unless one is given) and publishes `url` and `token` in its
directory, the one volume it shares with the agent step; `url` is written last and marks it ready. When
it first refuses a request because the run reached a limit, it writes `paused` there (reason, message).
It first makes itself non-dumpable, so processes of the same user (the agent step on the local
kubelet) can neither read its /proc/<pid>/environ nor attach to it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from atomesh.api import constants as k
from atomesh.api.common import parse_duration
from atomesh.api.runfile import RunFile
from atomesh.core.gateway import gateway_headers
from atomesh.core.modelgrant import EXPIRY_GRACE_SECONDS, ModelGrant, Refusal, UsageMeter
from atomesh.modelproxy.server import ModelProxy

log = logging.getLogger("atomesh.modelproxy")
TOKEN_PREFIX = "atomesh-run-"  # noqa: S105 - a prefix, not a secret
_PR_SET_DUMPABLE = 4


class ProxyConfigError(Exception):
    """The proxy's environment is incomplete; the message names the variable."""


def make_undumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0): /proc/<pid>/environ, mem and ptrace are closed to other processes
    of the same user. False where the call does not exist (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return int(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise ProxyConfigError(f"environment variable {name} is not set; the runner pod sets it")
    return value


def build_grant(run: RunFile, now: float) -> ModelGrant:
    from atomesh.pricing import price_of

    spec = run.spec
    limits = run.hard_limits()
    return ModelGrant(
        model=spec.harness.model,
        expires_at=now + parse_duration(spec.limits.timeout) + EXPIRY_GRACE_SECONDS,
        max_tokens=limits.max_tokens,
        max_cost_usd=limits.max_cost_usd,
        price=spec.harness.price or price_of(spec.harness.model),
        cost_from=limits.cost_from,
        tokens_from=limits.tokens_from,
    )


def _publish(directory: Path, name: str, value: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.partial"
    partial.write_text(value, encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(directory / name)


@dataclass(frozen=True)
class ProxySettings:
    upstream: str
    api_key: str = field(repr=False)
    directory: Path
    run: RunFile
    port: int = 0


def load_settings(environ: Mapping[str, str]) -> ProxySettings:
    run_path = Path(_required(environ, k.ENV_RUN_FILE))
    try:
        run = RunFile.model_validate_json(run_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ProxyConfigError(f"cannot read the run file {run_path}: {error}") from None
    return ProxySettings(
        upstream=_required(environ, k.ENV_MODEL_UPSTREAM_URL),
        api_key=_required(environ, k.ENV_MODEL_API_KEY),
        directory=Path(_required(environ, k.ENV_MODEL_PROXY_DIR)),
        run=run,
        port=int(environ.get(k.ENV_MODEL_PROXY_PORT) or 0),
    )


def run_meter(run: RunFile, grant: ModelGrant) -> UsageMeter:
    """The run's meter, starting from what its earlier attempts spent (a resumed run's limits are the run's)."""
    spent = run.spent
    if spent is None:
        return UsageMeter(grant)
    return UsageMeter(grant, input_tokens=spent.input_tokens, output_tokens=spent.output_tokens)


def pause_notice(refusal: Refusal) -> str:
    """What the agent step reads in `paused`: the reason the run pauses, and why."""
    return json.dumps({"reason": refusal.pause, "message": refusal.message})


async def serve(settings: ProxySettings) -> None:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    grant = build_grant(settings.run, time.time())
    proxy = ModelProxy(
        settings.upstream,
        settings.api_key,
        token,
        run_meter(settings.run, grant),
        extra_headers=gateway_headers(settings.run),
        on_pause=lambda refusal: _publish(settings.directory, k.MODEL_PROXY_PAUSED_FILE, pause_notice(refusal)),
    )
    runner = web.AppRunner(proxy.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.port)
    await site.start()
    bound = runner.addresses[0][1]
    _publish(settings.directory, k.MODEL_PROXY_TOKEN_FILE, token)
    _publish(settings.directory, k.MODEL_PROXY_URL_FILE, f"http://127.0.0.1:{bound}")
    log.info("forwarding %s for model %s on 127.0.0.1:%d", settings.upstream, grant.model, bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        meter = proxy.meter
        log.info("stopping after %d requests, %d+%d tokens", meter.requests, meter.input_tokens, meter.output_tokens)
        await runner.cleanup()


def run_proxy(environ: Mapping[str, str]) -> int:
    logging.basicConfig(level=logging.INFO, format="atomesh model-proxy: %(message)s", stream=sys.stderr)
    if not make_undumpable():
        log.warning("cannot make the process non-dumpable; rely on the container boundary")
    try:
        settings = load_settings(environ)
    except ProxyConfigError as error:
        log.error("%s", error)
        return 1
    # The key stays in this process's memory only: no child could inherit it.
    os.environ.pop(k.ENV_MODEL_API_KEY, None)
    asyncio.run(serve(settings))
    return 0
