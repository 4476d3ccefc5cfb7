"""The supervision overview as terminal tables (rich), for `atomesh status`."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from atomesh.console.format import age, money, percent, ratio
from atomesh.core.supervision_overview import Overview

VERDICT_STYLE = {"passed": "green", "failed": "red", "none": "dim"}


def review_table(view: Overview) -> Table:
    table = Table(title=f"Review queue ({len(view.review_queue)})", title_justify="left", expand=False)
    for column in ("NAMESPACE", "RUN", "AGENT", "MESH", "TYPE", "CHECKS", "COST", "WAITING", "REV", "PULL REQUEST"):
        table.add_column(column, justify="right" if column in ("COST", "WAITING", "REV") else "left")
    for item in view.review_queue:
        table.add_row(
            item.namespace,
            item.run,
            item.agent,
            item.mesh or "-",
            item.artifact_type or "-",
            Text(item.verdict, style=VERDICT_STYLE[item.verdict]),
            money(item.cost_usd),
            age(item.age_seconds),
            str(item.revision),
            item.pr_url or "-",
        )
    return table


def attention_table(view: Overview) -> Table:
    table = Table(title=f"Attention ({len(view.attention)})", title_justify="left")
    for column in ("PROBLEM", "KIND", "NAMESPACE", "NAME", "REASON", "AGE", "MESSAGE"):
        table.add_column(column, justify="right" if column == "AGE" else "left", overflow="fold")
    for item in view.attention:
        table.add_row(
            Text(item.problem, style="red" if item.problem == "Failed" else "yellow"),
            item.kind,
            item.namespace,
            item.name,
            item.reason or "-",
            age(item.age_seconds),
            item.message or "-",
        )
    return table


def fleet_table(view: Overview) -> Table:
    window = age(view.thresholds.fleet_window.total_seconds())
    table = Table(title=f"Fleet (runs created in the last {window})", title_justify="left")
    columns = ("NAMESPACE", "AGENT", "RUNS", "ACCEPTED", "REVIEW TIME", "COST", "COST/ACCEPTED", "REV/ACCEPTED")
    for column in (*columns, "LAST FAILURE"):
        table.add_column(column, justify="left" if column in ("NAMESPACE", "AGENT", "LAST FAILURE") else "right")
    for row in view.fleet:
        accepted = f"{percent(row.acceptance_rate)} ({row.merged}/{row.decided})" if row.decided else "-"
        table.add_row(
            row.namespace,
            row.agent + (" (suspended)" if row.suspended else ""),
            str(row.runs),
            accepted,
            age(row.median_review_seconds),
            money(row.cost_usd),
            money(row.cost_per_accepted_usd),
            ratio(row.revisions_per_accepted),
            row.last_failure_reason or "-",
        )
    return table


def overview_tables(view: Overview) -> Group:
    return Group(review_table(view), Text(""), attention_table(view), Text(""), fleet_table(view))
