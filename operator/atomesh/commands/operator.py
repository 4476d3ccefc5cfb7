"""`atomesh operator`: run the operator against the current kubeconfig or in-cluster config."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
from typing import TYPE_CHECKING

from atomesh.api.constants import ENV_FORGE_APP_ID, ENV_FORGE_TOKEN, ENV_LOCAL_RUNNER, ENV_WEBHOOK_SECRET
from atomesh.core.config import OperatorConfig

if TYPE_CHECKING:
    from atomesh.controller.review import ReviewForge
    from atomesh.controller.shards import ShardingOptions
    from atomesh.gateway.protocol import KeyGateway

# The LiteLLM proxy's master key, for Agents' virtual keys (chart value gateway.masterKeySecret).
ENV_GATEWAY_MASTER_KEY = "ATOMESH_GATEWAY_MASTER_KEY"

# Flag/environment pairs for OperatorConfig; flags win over the environment.
ENVIRONMENT = {
    "runner_image": "ATOMESH_RUNNER_IMAGE",
    "forge_api_url": "ATOMESH_FORGE_API_URL",
    "forge_git_url": "ATOMESH_FORGE_GIT_URL",
    "forge_secret_name": "ATOMESH_FORGE_SECRET",
    "model_base_url": "ATOMESH_MODEL_BASE_URL",
    "model_secret_name": "ATOMESH_MODEL_SECRET",
    "gateway_url": "ATOMESH_GATEWAY_URL",
    "review_poll_interval_seconds": "ATOMESH_REVIEW_POLL_INTERVAL",
    "trigger_poll_interval_seconds": "ATOMESH_TRIGGER_POLL_INTERVAL",
    "local_runner": ENV_LOCAL_RUNNER,
    "repository_hosts": "ATOMESH_REPOSITORY_HOSTS",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], help="namespace to serve (repeatable)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="serve every namespace")
    ha = parser.add_mutually_exclusive_group()
    ha.add_argument("--standalone", action="store_true", help="no peering: the only operator instance")
    ha.add_argument("--peering", metavar="NAME", help="KopfPeering name for high availability")
    parser.add_argument(
        "--priority",
        type=int,
        default=None,
        help="peering priority; the highest-priority replica works, the others wait (default: derived from POD_ID)",
    )
    shards = parser.add_argument_group("sharding (docs/install.md, Scale)")
    shards.add_argument(
        "--shards",
        type=int,
        default=int(os.environ.get("ATOMESH_SHARDS") or 0),
        help="split the namespaces served into N shards, each held by one replica (env ATOMESH_SHARDS; 0: off)",
    )
    shards.add_argument(
        "--shard-lease-namespace",
        default=os.environ.get("POD_NAMESPACE") or "default",
        help="namespace of the shard Leases (env POD_NAMESPACE)",
    )
    shards.add_argument(
        "--shard-lease-seconds", type=int, default=15, help="a dead replica's shards move after this many seconds"
    )
    parser.add_argument("--metrics-port", type=int, default=8080, help="port of /metrics and /healthz (0: any)")
    parser.add_argument("--metrics-host", default="0.0.0.0", help="address of /metrics and /healthz")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    for field, env in ENVIRONMENT.items():
        flag = "--" + field.replace("_", "-")
        parser.add_argument(flag, dest=field, default=os.environ.get(env), help=f"(env {env})")


def config_from_args(args: argparse.Namespace) -> OperatorConfig:
    values = {field: getattr(args, field) for field in ENVIRONMENT if getattr(args, field, None)}
    return OperatorConfig(**values)


def review_forge() -> ReviewForge | None:
    """The operator's own forge credentials (token or GitHub App) from its environment; without
    them the review loop is off and runs wait in AwaitingReview."""
    from atomesh.forge.github import GitHubForge

    env = os.environ
    if not (env.get(ENV_FORGE_TOKEN) or env.get(ENV_FORGE_APP_ID)):
        logging.getLogger(__name__).warning(
            "no forge credentials (%s or %s): the review loop is off", ENV_FORGE_TOKEN, ENV_FORGE_APP_ID
        )
        return None
    return GitHubForge.from_env(env)


def key_gateway(config: OperatorConfig) -> KeyGateway | None:
    """The LiteLLM proxy's key API with the operator's master key; without one, Agents asking for a virtual
    key get VirtualKeyReady=False, GatewayNotConfigured."""
    from atomesh.gateway.litellm import LiteLLMKeys

    master_key = os.environ.get(ENV_GATEWAY_MASTER_KEY)
    if not master_key:
        return None
    return LiteLLMKeys(config.gateway_url or config.model_base_url, master_key)


def peering_priority(explicit: int | None, pod_id: str | None) -> int:
    """kopf pauses every replica whose priority is not the highest, and all of them on a tie; a
    distinct priority per pod makes exactly one replica active, like leader election."""
    if explicit is not None:
        return explicit
    if not pod_id:
        return 0
    return int.from_bytes(hashlib.sha256(pod_id.encode()).digest()[:4], "big") % 1_000_000 + 1


def sharding_from_args(args: argparse.Namespace) -> ShardingOptions | None:
    if not args.shards:
        return None
    if args.shards < 0 or args.shard_lease_seconds < 3:
        raise SystemExit("--shards must be 0 or more and --shard-lease-seconds at least 3")
    identity = os.environ.get("POD_ID") or ""
    if identity:  # a replica restarted under the same pod name is a new holder
        identity = f"{identity}_{os.getpid()}"
    from atomesh.controller.shards import ShardingOptions  # kopf loads only for this command

    return ShardingOptions(args.shards, args.shard_lease_namespace, identity, args.shard_lease_seconds)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    from atomesh.controller.main import run as run_operator  # kopf loads only for this command

    namespaces = args.namespace or ([] if args.all_namespaces else ["default"])
    config = config_from_args(args)
    return run_operator(
        config,
        namespaces=namespaces,
        all_namespaces=args.all_namespaces,
        standalone=args.standalone or not args.peering,
        peering=args.peering,
        priority=peering_priority(args.priority, os.environ.get("POD_ID")),
        port=args.metrics_port,
        host=args.metrics_host,
        kubeconfig=args.kubeconfig,
        forge=review_forge(),
        webhook_secret=os.environ.get(ENV_WEBHOOK_SECRET) or None,
        sharding=sharding_from_args(args),
        key_gateway=key_gateway(config),
    )
