"""`python -m atomesh.devstack.kube [--port N] [--state DIR]`: the API server alone, in the foreground
(benchmarks and debugging; `atomesh dev --only kube` is the user-facing way)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from atomesh.devstack.kube.app import create_app
from atomesh.devstack.serving import LOOPBACK, start_site


async def _serve(port: int, state: Path | None) -> None:
    runner, bound = await start_site(await create_app(state), LOOPBACK, port)
    print(f"http://{LOOPBACK}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m atomesh.devstack.kube", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one, printed)")
    parser.add_argument("--state", type=Path, default=None, help="directory of the SQLite state (default: memory)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.state))


if __name__ == "__main__":
    main()
