"""kopf 1.45 against the emulator: a tiny operator sees create/update/delete, patches status,
posts events, and its finalizer holds deletion until the delete handler completes."""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.error
from collections.abc import Iterator
from typing import Any

import kopf
import pytest
from kopf.testing import KopfRunner
from tests.fixtures.kube import RunningKubeAPI
from tests.integration.kube.kube_helpers import WIDGETS, WIDGETS_CRD, eventually, widget

pytestmark = pytest.mark.integration
NS = "kopf-test"
FINALIZER = "example.com/kopf-finalizer"


class Operator:
    """Handlers in their own registry, so other kopf tests in the same process never see them."""

    def __init__(self, url: str) -> None:
        self.registry = kopf.OperatorRegistry()
        self.seen: list[tuple[str, str]] = []
        self.release_delete = threading.Event()
        self.delete_started = threading.Event()
        reg = self.registry

        @kopf.on.login(registry=reg)
        def login(**_: Any) -> kopf.ConnectionInfo:
            return kopf.ConnectionInfo(server=url, token="any", scheme="Bearer")

        @kopf.on.startup(registry=reg)
        def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
            settings.persistence.finalizer = FINALIZER
            settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.example.com")
            settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.example.com")
            settings.posting.level = 0

        @kopf.on.create("example.com", "v1", "widgets", id="created", registry=reg)
        def created(name: str, spec: Any, body: Any, **_: Any) -> dict[str, Any]:
            self.seen.append(("create", name))
            kopf.info(body, reason="Created", message="widget created")  # posted as a core v1 Event
            return {"size": spec["size"]}

        @kopf.on.update("example.com", "v1", "widgets", id="updated", field="spec.size", registry=reg)
        def updated(name: str, new: Any, **_: Any) -> dict[str, Any]:
            self.seen.append(("update", name))
            return {"size": new}

        @kopf.on.delete("example.com", "v1", "widgets", id="deleted", registry=reg)
        def deleted(name: str, **_: Any) -> None:
            self.delete_started.set()
            self.release_delete.wait(30)
            self.seen.append(("delete", name))


@pytest.fixture(scope="module")
def operator(kube_api: RunningKubeAPI) -> Iterator[Operator]:
    kube_api.apply(WIDGETS_CRD)
    kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    op = Operator(kube_api.url)
    with (
        restored_logging(),
        KopfRunner(["run", "--standalone", "--namespace", NS, "--verbose"], registry=op.registry) as runner,
    ):
        yield op
        op.release_delete.set()
    assert runner.exception is None, runner.output


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    """kopf's CLI configures logging for the whole process: a DEBUG stream handler on the root logger and
    a silenced `asyncio`. Put both back, or every later test of this worker prints its DEBUG records."""
    root, quiet = logging.getLogger(), logging.getLogger("asyncio")
    handlers, level = list(root.handlers), root.level
    quiet_handlers, propagate = list(quiet.handlers), quiet.propagate
    try:
        yield
    finally:
        root.handlers[:], quiet.handlers[:] = handlers, quiet_handlers
        root.setLevel(level)
        quiet.propagate = propagate


def _get(kube_api: RunningKubeAPI, name: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = kube_api.request("GET", WIDGETS.format(ns=NS) + "/" + name)
        return result
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def test_kopf_handles_create_update_and_patches_status(kube_api: RunningKubeAPI, operator: Operator) -> None:
    kube_api.request("POST", WIDGETS.format(ns=NS), widget("w1", size=2))

    def status_of_create() -> Any:
        obj = _get(kube_api, "w1")
        return obj and obj.get("status", {}).get("created")

    assert eventually(status_of_create, what="kopf's create result in status") == {"size": 2}
    obj = _get(kube_api, "w1")
    assert obj is not None
    assert FINALIZER in obj["metadata"]["finalizers"]

    kube_api.request("PATCH", WIDGETS.format(ns=NS) + "/w1", {"spec": {"size": 5}}, "application/merge-patch+json")
    eventually(lambda: ("update", "w1") in operator.seen, what="kopf's update handler")
    assert eventually(lambda: (_get(kube_api, "w1") or {}).get("status", {}).get("updated/spec.size")) == {"size": 5}


def test_kopf_posts_events(kube_api: RunningKubeAPI, operator: Operator) -> None:
    kube_api.request("POST", WIDGETS.format(ns=NS), widget("w2"))

    def events() -> list[dict[str, Any]]:
        items = kube_api.request("GET", f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name=w2")["items"]
        return [e for e in items if "widget created" in e.get("message", "")]

    found = eventually(events, what="an Event posted by kopf")
    assert found[0]["involvedObject"]["kind"] == "Widget"
    assert found[0]["reason"] == "Created"
    assert found[0]["metadata"]["name"].startswith("kopf-event-")  # kopf posts with generateName


def test_kopf_finalizer_blocks_deletion_until_handler_completes(kube_api: RunningKubeAPI, operator: Operator) -> None:
    kube_api.request("POST", WIDGETS.format(ns=NS), widget("w3"))
    eventually(lambda: ("create", "w3") in operator.seen, what="kopf's create handler")
    eventually(lambda: FINALIZER in ((_get(kube_api, "w3") or {}).get("metadata", {}).get("finalizers") or []))

    kube_api.request("DELETE", WIDGETS.format(ns=NS) + "/w3")
    assert operator.delete_started.wait(30), "kopf's delete handler never started"
    held = _get(kube_api, "w3")
    assert held is not None, "the finalizer must hold the object while the handler runs"
    assert held["metadata"]["deletionTimestamp"]

    operator.release_delete.set()
    eventually(lambda: _get(kube_api, "w3") is None, what="the widget to disappear after the handler")
    assert ("delete", "w3") in operator.seen
