"""`atomesh operator` reads ATOMESH_LOCAL_RUNNER (set by `atomesh dev`, or by hand beside a joined kubelet)."""

from __future__ import annotations

import argparse

import pytest

from atomesh.api.constants import ENV_LOCAL_RUNNER
from atomesh.commands.operator import add_arguments, config_from_args


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_local_runner_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_LOCAL_RUNNER, raising=False)
    assert config_from_args(parse()).local_runner is False
    monkeypatch.setenv(ENV_LOCAL_RUNNER, "true")
    assert config_from_args(parse()).local_runner is True
    monkeypatch.setenv(ENV_LOCAL_RUNNER, "false")
    assert config_from_args(parse()).local_runner is False
