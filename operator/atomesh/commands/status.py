"""`atomesh status`: the review queue, attention list and fleet table in the terminal, for people and scripts.

Reads with the user's kubeconfig, so Kubernetes RBAC decides what is shown (like kubectl). Exit codes:
0 shown; 1 `--fail-on` found something; 2 bad usage or the cluster could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import kubernetes
import yaml
from rich.console import Console
from rich.live import Live

from atomesh.api.common import parse_duration
from atomesh.console.cache import ClusterCache, list_once
from atomesh.console.tables import overview_tables
from atomesh.core.supervision import Thresholds
from atomesh.core.supervision_overview import Overview, overview, overview_document
from atomesh.kube.client import KubeError
from atomesh.kube.watch import KubeReader

FAIL_ON = ("attention", "review")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NAMESPACE",
        help="only this namespace (repeatable; default: the namespaces your RBAC lets you read)",
    )
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table", help="output format")
    parser.add_argument("-w", "--watch", action="store_true", help="keep the tables up to date from a watch")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        action="append",
        default=[],
        help="exit 1 when the attention list (or the review queue) is not empty (repeatable)",
    )
    parser.add_argument(
        "--review-overdue", default="24h", metavar="DURATION", help="a review waiting longer needs attention"
    )
    parser.add_argument("--window", default="168h", metavar="DURATION", help="the fleet table's window of runs")


def thresholds(args: argparse.Namespace) -> Thresholds:
    return Thresholds(
        review_overdue=timedelta(seconds=parse_duration(args.review_overdue)),
        fleet_window=timedelta(seconds=parse_duration(args.window)),
    )


def render(view: Overview, output: str, console: Console) -> None:
    if output == "table":
        console.print(overview_tables(view))
        return
    document: dict[str, Any] = overview_document(view)
    if output == "json":
        console.out(json.dumps(document, indent=2), highlight=False)
    else:
        console.out(yaml.safe_dump(document, sort_keys=False).rstrip(), highlight=False)


def failures(view: Overview, fail_on: list[str]) -> list[str]:
    """What `--fail-on` found, one line each."""
    found = []
    if "attention" in fail_on and view.attention:
        found.append(f"{len(view.attention)} item(s) need attention")
    if "review" in fail_on and view.review_queue:
        found.append(f"{len(view.review_queue)} pull request(s) await review")
    return found


def run(args: argparse.Namespace) -> int:
    try:
        limits = thresholds(args)
    except ValueError as exc:
        print(f"atomesh status: --review-overdue/--window: {exc}", file=sys.stderr)
        return 2
    if args.watch and args.fail_on:
        print("atomesh status: --fail-on checks one moment; leave out --watch", file=sys.stderr)
        return 2
    try:
        reader = KubeReader.from_kubeconfig(args.kubeconfig, args.context)
    except (kubernetes.config.ConfigException, OSError) as exc:
        print(f"atomesh status: cannot load the kubeconfig: {exc}", file=sys.stderr)
        return 2
    console = Console()
    try:
        if args.watch:
            return watch(reader, args.namespaces, limits, args.output, console)
        try:
            agents, meshes, runs, warnings = list_once(reader, args.namespaces)
        except KubeError as exc:
            print(f"atomesh status: cannot read the cluster: {exc}", file=sys.stderr)
            return 2
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        view = overview(agents, meshes, runs, datetime.now(UTC), limits)
        render(view, args.output, console)
        found = failures(view, args.fail_on)
        for line in found:
            print(f"atomesh status: {line}", file=sys.stderr)
        return 1 if found else 0
    finally:
        reader.close()


def watch(reader: KubeReader, namespaces: list[str] | None, limits: Thresholds, output: str, console: Console) -> int:
    """Redraw from a watch-fed cache; tables redraw in place, json and yaml print one document per change."""
    cache = ClusterCache(reader, namespaces)
    cache.start()
    if not cache.wait_synced(60):
        print(f"atomesh status: the cluster did not answer: {list(cache.stats.errors)}", file=sys.stderr)
    try:
        if output == "table":
            with Live(console=console, auto_refresh=False) as live:
                while True:
                    agents, meshes, runs, _ = cache.snapshot()
                    live.update(overview_tables(overview(agents, meshes, runs, datetime.now(UTC), limits)))
                    live.refresh()
                    time.sleep(1.0)
        seen = -1
        while True:
            agents, meshes, runs, generation = cache.snapshot()
            if generation != seen:
                render(overview(agents, meshes, runs, datetime.now(UTC), limits), output, console)
                seen = generation
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    finally:
        cache.stop()
