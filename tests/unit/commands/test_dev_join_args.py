"""`atomesh dev --join`: mistakes refused before anything starts, and a cluster that does not answer
refused with the server named."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path

import pytest
import yaml

from atomesh.commands.dev import add_arguments, check
from atomesh.devstack.joined import JoinedCluster, JoinError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.mark.parametrize("extra", [("--state", "s"), ("--port", "6443"), ("--kubeconfig", "k")])
def test_join_refuses_the_emulators_own_options(tmp_path: Path, extra: tuple[str, str]) -> None:
    args = parse("--join", str(kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")), *extra)
    with pytest.raises(ValueError, match="--join uses the cluster of its kubeconfig"):
        check(args)


def test_join_needs_an_existing_kubeconfig_and_uses_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such kubeconfig"):
        check(parse("--join", str(tmp_path / "missing")))
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    args = parse("--join", str(path))
    check(args)
    assert args.kubeconfig == path


def test_an_api_server_that_does_not_answer_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = JoinedCluster(kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}"))
    with pytest.raises(JoinError, match=f"the API server http://127.0.0.1:{port} did not answer"):
        asyncio.run(cluster.start())
