"""Context sources, pure: a Context's status from its source, an Agent's selection, the revision it gives,
the pod volume of ConfigMap contexts, the text a harness receives, and the CRD's exactly-one rule."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.unit.test_crd import apply_defaults

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.context import AgentContext, Context, ContextSpec, ContextStatus, ContextVersion
from atomesh.api.crd import KINDS, openapi_schema
from atomesh.core.conditions import find
from atomesh.core.context import (
    SourceObservation,
    content_digest,
    context_volume,
    plan_context_status,
    select_contexts,
    with_contexts,
)
from atomesh.core.contextdoc import ContextDocuments, ContextOverflow, render_context
from atomesh.core.revision import plan_agent_status
from atomesh.devstack.kube import celrules

NOW = "2026-01-01T00:00:00Z"
COMMIT = "a" * 40


def configmap(data: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "handbook", "uid": "u-1", "resourceVersion": "7", **meta}, "data": data}


def plan(spec: dict[str, Any], observed: SourceObservation, current: ContextStatus | None = None) -> ContextStatus:
    return plan_context_status(
        current or ContextStatus(),
        name="handbook",
        generation=2,
        spec=ContextSpec.model_validate(spec),
        observed=observed,
        now=NOW,
    )


def test_a_git_context_is_pinned_to_the_commit_its_ref_resolved_to() -> None:
    status = plan({"git": {"repo": "acme/handbook", "ref": "main", "path": "style"}}, SourceObservation(commit=COMMIT))
    assert status.version is not None
    assert (status.version.kind, status.version.commit, status.version.path) == ("git", COMMIT, "style")
    assert status.revision == f"main@sha1:{COMMIT}"
    ready = find(status.conditions, c.READY)
    assert ready is not None
    assert (ready.status, ready.reason, ready.observed_generation) == (c.TRUE, c.RECONCILED, 2)


def test_a_configmap_context_is_pinned_to_uid_resource_version_and_content_digest() -> None:
    data = {"style.md": "Use British spelling.", "glossary.md": "SLA: service level agreement"}
    status = plan({"configMap": {"name": "handbook"}}, SourceObservation(configmap=configmap(data)))
    version = status.version
    assert version is not None
    assert (version.uid, version.resource_version, version.files) == ("u-1", "7", ["glossary.md", "style.md"])
    assert version.digest == content_digest({key: value.encode() for key, value in data.items()})
    assert status.revision == f"handbook@{version.digest}"
    assert status.size_bytes == sum(len(value) for value in data.values())
    changed = plan({"configMap": {"name": "handbook"}}, SourceObservation(configmap=configmap({"style.md": "x"})))
    assert changed.version is not None
    assert changed.version.digest != version.digest


def test_binary_data_counts_in_the_digest_as_the_volume_holds_it() -> None:
    body = {"metadata": {}, "binaryData": {"logo.png": base64.b64encode(b"\x89PNG").decode()}}
    status = plan({"configMap": {"name": "handbook"}}, SourceObservation(configmap=body))
    assert status.version is not None
    assert status.version.digest == content_digest({"logo.png": b"\x89PNG"})


def test_the_digest_frames_names_and_contents() -> None:
    assert content_digest({"a": b"bc"}) != content_digest({"ab": b"c"})
    assert content_digest({"a": b"1", "b": b"2"}) == content_digest({"b": b"2", "a": b"1"})


def test_an_oci_context_is_refused_as_unsupported_and_stalled() -> None:
    status = plan({"oci": {"ref": "ghcr.io/acme/handbook:v3"}}, SourceObservation())
    ready, stalled = find(status.conditions, c.READY), find(status.conditions, c.STALLED)
    assert ready is not None
    assert (ready.status, ready.reason) == (c.FALSE, c.SOURCE_UNSUPPORTED)
    assert stalled is not None
    assert stalled.status == c.TRUE
    assert "spec.oci is not supported" in ready.message
    assert "spec.git" in ready.message
    assert status.version is None


def test_an_oversized_configmap_is_refused_naming_the_limit() -> None:
    status = plan(
        {"configMap": {"name": "handbook"}, "maxBytes": 10}, SourceObservation(configmap=configmap({"a": "x" * 11}))
    )
    ready = find(status.conditions, c.READY)
    assert ready is not None
    assert ready.reason == c.CONTEXT_TOO_LARGE
    assert "11 bytes" in ready.message
    assert "spec.maxBytes=10" in ready.message
    assert status.version is None
    assert find(status.conditions, c.STALLED) is not None


def test_a_missing_configmap_or_unresolved_ref_is_retried_and_drops_the_version() -> None:
    good = plan({"configMap": {"name": "handbook"}}, SourceObservation(configmap=configmap({"a": "b"})))
    missing = plan({"configMap": {"name": "handbook"}}, SourceObservation(), current=good)
    ready = find(missing.conditions, c.READY)
    assert ready is not None
    assert ready.reason == c.CONFIG_MAP_NOT_FOUND
    assert find(missing.conditions, c.RECONCILING) is not None
    assert missing.version is None
    unresolved = plan({"git": {"repo": "https://x:tok@git.example/h.git"}}, SourceObservation(error="refused"))
    ready = find(unresolved.conditions, c.READY)
    assert ready is not None
    assert ready.reason == c.REF_RESOLUTION_FAILED
    assert "tok" not in ready.message


def test_the_spec_takes_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one of git, configMap or oci"):
        ContextSpec.model_validate({"git": {"repo": "a/b"}, "configMap": {"name": "c"}})
    with pytest.raises(ValueError, match="exactly one"):
        ContextSpec.model_validate({})


def test_the_crd_enforces_exactly_one_source_with_a_cel_rule() -> None:
    schema = openapi_schema(next(info for info in KINDS if info.kind == "Context").model)
    tree = celrules.tree_for(schema)

    def problems(spec: dict[str, Any]) -> list[str]:
        obj = {"metadata": {"name": "a"}, "spec": apply_defaults(schema["properties"]["spec"], spec)}
        return [f"{found['field']}: {found['message']}" for found in celrules.validate(tree, obj, None, [])]

    assert problems({"git": {"repo": "a/b"}}) == []
    expected = ['spec: Invalid value: "object": set exactly one of git, configMap or oci']
    assert problems({"git": {"repo": "a/b"}, "oci": {"ref": "r"}}) == expected
    assert problems({}) == expected


def context(name: str, version: ContextVersion | None, labels: dict[str, str] | None = None) -> Context:
    status = None
    if version is not None:
        ready = plan({"configMap": {"name": name}}, SourceObservation(configmap=configmap({"a": name})))
        status = ready.model_copy(update={"version": version})
    return Context.model_validate(
        {
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"configMap": {"name": name}},
            "status": status.model_dump(by_alias=True) if status else None,
        }
    )


def version(name: str, revision: str = "r1") -> ContextVersion:
    return ContextVersion(
        name=name, kind="configMap", revision=revision, config_map=name, digest="sha256:x", files=["a"]
    )


def test_an_agent_selects_contexts_by_name_and_label_in_name_order() -> None:
    contexts = [
        context("policies", version("policies"), {"team": "core"}),
        context("handbook", version("handbook")),
        context("glossary", version("glossary"), {"team": "other"}),
    ]
    selection = select_contexts(
        AgentContext.model_validate({"names": ["handbook"], "selector": {"matchLabels": {"team": "core"}}}), contexts
    )
    assert selection.error is None
    assert [v.name for v in selection.versions] == ["handbook", "policies"]


def test_a_missing_or_unready_context_keeps_the_selection_unresolved() -> None:
    selection = select_contexts(AgentContext(names=["handbook", "gone"]), [context("handbook", None)])
    assert selection.versions == ()
    assert selection.error is not None
    assert "'gone'" in selection.error
    assert "does not exist" in selection.error
    assert "'handbook' is not Ready" in selection.error


def agent_spec(**extra: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "purpose": "p",
            "instructions": "i",
            "output": {"artifact": "doc"},
            "workspace": {"repo": "a/b"},
            "harness": {"model": "claude-sonnet-4-5"},
            **extra,
        }
    )


def test_a_context_update_is_a_new_agent_revision_and_pins_the_versions() -> None:
    spec = agent_spec(context={"names": ["handbook"]})
    one = select_contexts(spec.context, [context("handbook", version("handbook", "r1"))])
    two = select_contexts(spec.context, [context("handbook", version("handbook", "r2"))])
    first = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=None, now=NOW, contexts=one
    )
    second = plan_agent_status(first, generation=1, spec=spec, invalid=None, resolution=None, now=NOW, contexts=two)
    assert first.revision
    assert second.revision
    assert first.revision != second.revision
    assert first.revision.startswith("inline@")
    assert "+context@" in first.revision
    assert [v.revision for v in second.contexts] == ["r2"]
    assert with_contexts("inline@abc", []) == "inline@abc"


def test_an_agent_waiting_for_its_context_is_not_ready() -> None:
    spec = agent_spec(context={"names": ["gone"]})
    selection = select_contexts(spec.context, [])
    status = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=None, now=NOW, contexts=selection
    )
    ready = find(status.conditions, c.READY)
    assert ready is not None
    assert (ready.status, ready.reason) == (c.FALSE, c.CONTEXT_NOT_READY)
    assert "spec.context" in ready.message
    assert status.revision is None


def test_configmap_contexts_become_one_projected_volume_without_collisions() -> None:
    git = ContextVersion(name="style", kind="git", revision="main@sha1:x", repo="a/b", commit=COMMIT)
    volume = context_volume([git, version("handbook"), version("glossary")])
    assert volume is not None
    sources = volume["projected"]["sources"]
    assert [s["configMap"]["name"] for s in sources] == ["handbook", "glossary"]
    assert sources[0]["configMap"]["items"] == [{"key": "a", "path": "handbook/a"}]
    assert context_volume([git]) is None


def test_the_rendered_context_names_each_version_and_refuses_overflow() -> None:
    handbook = version("handbook", "handbook@sha256:abc").model_copy(update={"max_bytes": 100})
    text = render_context(
        [ContextDocuments(handbook, {"z.md": b"Last.", "a.md": b"Use British spelling.", "logo.png": b"\xff\xfe"})]
    )
    assert "## Context handbook (handbook@sha256:abc)" in text
    assert text.index("### a.md") < text.index("### z.md")
    assert "Use British spelling." in text
    assert "(binary file, not shown)" in text
    assert render_context([]) == ""
    with pytest.raises(ContextOverflow, match="maxBytes=100"):
        render_context([ContextDocuments(handbook, {"big.md": b"x" * 101})])
