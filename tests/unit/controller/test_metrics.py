"""/metrics in the Prometheus text format, read back with Prometheus' own parser (prometheus_client)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from tests.unit.controller.controller_fakes import NAMESPACE, READY, Events, agent_manifest, operator_context

from atomesh.controller.agent import reconcile_agent
from atomesh.controller.metrics import REVIEW_WAIT_BUCKETS, Metrics
from atomesh.kube.resources import AGENTS


def families(metrics: Metrics) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(metrics.render())}


def test_review_queue_depth_counts_waiting_runs_by_namespace_and_agent_and_reads_zero_once_empty() -> None:
    metrics = Metrics()
    metrics.observe_review_queue("team-a", "fix-1", "fixer")
    metrics.observe_review_queue("team-a", "fix-2", "fixer")
    metrics.observe_review_queue("team-b", "doc-1", 'docs "v2"')
    metrics.observe_review_queue("team-a", "fix-1", None)
    depth = {
        (s.labels["namespace"], s.labels["agent"]): s.value for s in families(metrics)["atomesh_review_queue_depth"]
    }
    assert depth == {("team-a", "fixer"): 1, ("team-b", 'docs "v2"'): 1}
    metrics.observe_review_queue("team-a", "fix-2", None)
    depth = {
        (s.labels["namespace"], s.labels["agent"]): s.value for s in families(metrics)["atomesh_review_queue_depth"]
    }
    assert depth[("team-a", "fixer")] == 0


def test_review_wait_is_a_histogram_by_namespace_and_decision() -> None:
    metrics = Metrics()
    metrics.review_decided("team-a", "merged", 120.0)
    metrics.review_decided("team-a", "merged", 4000.0)
    metrics.review_decided("team-a", "changesRequested", 30.0)
    samples = families(metrics)["atomesh_review_wait_seconds"]
    merged = [s for s in samples if s.labels.get("decision") == "merged"]
    buckets = {s.labels["le"]: s.value for s in merged if s.name.endswith("_bucket")}
    assert len(buckets) == len(REVIEW_WAIT_BUCKETS) + 1
    assert (buckets["60.0"], buckets["300.0"], buckets["3600.0"], buckets["7200.0"], buckets["+Inf"]) == (0, 1, 1, 2, 2)
    assert {s.name: s.value for s in merged if not s.name.endswith("_bucket")} == {
        "atomesh_review_wait_seconds_sum": 4120.0,
        "atomesh_review_wait_seconds_count": 2,
    }
    requested = [s for s in samples if s.labels.get("decision") == "changesRequested" and s.name.endswith("_count")]
    assert [s.value for s in requested] == [1]


def test_acceptance_and_cost_per_accepted_are_gauges_that_vanish_when_nothing_was_decided() -> None:
    metrics = Metrics()
    metrics.acceptance_rate("team-a", "fixer", 0.6667)
    metrics.acceptance_rate("team-a", "idle", None)
    metrics.cost_per_accepted("team-a", "fixer", 1.25)
    found = families(metrics)
    assert [(s.labels, s.value) for s in found["atomesh_acceptance_ratio"]] == [
        ({"namespace": "team-a", "agent": "fixer"}, 0.6667)
    ]
    assert [s.value for s in found["atomesh_cost_per_accepted_artifact_usd"]] == [1.25]
    metrics.acceptance_rate("team-a", "fixer", None)
    assert families(metrics)["atomesh_acceptance_ratio"] == []


def test_run_duration_histogram_keeps_its_unlabelled_series_before_any_run() -> None:
    metrics = Metrics()
    samples = families(metrics)["atomesh_run_duration_seconds"]
    assert {s.name for s in samples} == {
        "atomesh_run_duration_seconds_bucket",
        "atomesh_run_duration_seconds_sum",
        "atomesh_run_duration_seconds_count",
    }
    metrics.run_finished("fixer", 45.0, 0.1, 10)
    count = [s.value for s in families(metrics)["atomesh_run_duration_seconds"] if s.name.endswith("_count")]
    assert count == [1]


def test_a_restarted_operator_exports_each_agents_last_rollup_when_it_reconciles_the_agent() -> None:
    ctx, kube = operator_context(Events())
    kube.create(AGENTS, agent_manifest("fixer"))
    rollup = {
        "reviews": {"decided": 4, "merged": 3, "acceptanceRate": 0.75},
        "artifactCost": {"costPerAcceptedUSD": 2.5},
    }
    kube.patch_status(AGENTS, NAMESPACE, "fixer", {**READY, **rollup})
    reconcile_agent(ctx, NAMESPACE, "fixer")
    found = families(ctx.metrics)
    labels = {"namespace": NAMESPACE, "agent": "fixer"}
    assert [(s.labels, s.value) for s in found["atomesh_acceptance_ratio"]] == [(labels, 0.75)]
    assert [(s.labels, s.value) for s in found["atomesh_cost_per_accepted_artifact_usd"]] == [(labels, 2.5)]
