"""Shared bits of the API-server acceptance tests: the test CRD and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

HERE = Path(__file__).parent
WIDGETS_CRD_FILE = HERE / "widgets-crd.yaml"
WIDGETS_CRD: dict[str, Any] = yaml.safe_load(WIDGETS_CRD_FILE.read_text())
WIDGETS = "/apis/example.com/v1/namespaces/{ns}/widgets"
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail (not a timing assertion) if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never became true")
        time.sleep(0.05)


def widget(name: str, size: int = 1, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, **metadata},
        "spec": {"size": size},
    }
