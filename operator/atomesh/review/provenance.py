"""The provenance block every pull request carries, for people and for the operator.

People read a table; the operator (and anyone auditing) reads the same facts back from a hidden
HTML comment, `<!-- atomesh:provenance {json} -->`, at the very end of the body. The comment is the
last one in the body, and content shown from the artifact never contains an unescaped `<!--`, so
an artifact cannot forge it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from atomesh.review.markdown import cell, table
from atomesh.review.surface import Provenance, RevisionEntry

PROVENANCE_MARKER = "atomesh:provenance"
PROVENANCE_VERSION = 1
# Fields are Kubernetes names, model names and short strings; the bound only guarantees the body limit.
_FIELD_LIMIT = 256
_COMMENT = re.compile(r"<!-- " + re.escape(PROVENANCE_MARKER) + r" (\{.*?\}) -->")


def _bounded(provenance: Provenance) -> dict[str, Any]:
    fields = asdict(provenance)
    return {key: value[:_FIELD_LIMIT] if isinstance(value, str) else value for key, value in fields.items()}


def provenance_record(provenance: Provenance, revision: int = 0) -> dict[str, Any]:
    """The machine-readable provenance: camelCase keys, as in the atomesh API."""
    fields = _bounded(provenance)
    return {
        "version": PROVENANCE_VERSION,
        "agent": fields["agent"],
        "namespace": fields["namespace"],
        "run": fields["run"],
        "agentRevision": fields["agent_revision"],
        "specHash": fields["spec_hash"],
        "harness": fields["harness"],
        "model": fields["model"],
        "trigger": fields["trigger"],
        "inputTokens": provenance.input_tokens,
        "outputTokens": provenance.output_tokens,
        "costUSD": round(provenance.cost_usd, 6),
        "turns": provenance.turns,
        "revision": revision,
        **({"contexts": [value[:_FIELD_LIMIT] for value in provenance.contexts]} if provenance.contexts else {}),
        **({"resumedSession": fields["resumed_session"]} if provenance.resumed_session else {}),
    }


def provenance_comment(provenance: Provenance, revision: int = 0) -> str:
    """The hidden comment. `--` and `>` only occur inside JSON strings; escaping them keeps the comment closed."""
    payload = json.dumps(provenance_record(provenance, revision), sort_keys=True, separators=(",", ":"))
    payload = payload.replace("--", "\\u002d\\u002d").replace(">", "\\u003e")
    return f"<!-- {PROVENANCE_MARKER} {payload} -->"


def parse_provenance(body: str) -> dict[str, Any] | None:
    """The provenance record of a PR body (the last marker wins), or None when absent or unreadable."""
    matches = _COMMENT.findall(body)
    if not matches:
        return None
    try:
        record = json.loads(matches[-1])
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def render_provenance(provenance: Provenance, revision: int = 0) -> str:
    """The visible provenance table followed by the hidden machine-readable comment."""
    fields = _bounded(provenance)
    tokens = f"{provenance.input_tokens:,} in / {provenance.output_tokens:,} out"
    rows = [
        ("Agent", f"{fields['namespace']}/{fields['agent']}"),
        ("Agent revision", fields["agent_revision"] or "unknown"),
        ("Spec hash", fields["spec_hash"][:12] or "unknown"),
        ("Harness", fields["harness"]),
        ("Model", fields["model"]),
        ("Run", fields["run"] + (f" (revision {revision})" if revision else "")),
        ("Trigger", fields["trigger"]),
        ("Tokens", tokens + (f", {provenance.turns} turns" if provenance.turns else "")),
        ("Cost", f"${provenance.cost_usd:.4f}"),
    ]
    rows += [("Context", value) for value in provenance.contexts]
    if provenance.resumed_session:
        rows.append(("Resumed session", f"of run {fields['resumed_session']}"))
    lines = ["### Provenance", "", *table(["", ""], [(name, cell(value, _FIELD_LIMIT)) for name, value in rows])]
    return "\n".join(lines) + "\n\n" + provenance_comment(provenance, revision)


def render_history(revision: int, history: tuple[RevisionEntry, ...]) -> str:
    """Earlier revisions of this pull request and the feedback each one addressed."""
    if revision <= 0:
        return ""
    rows = [(str(entry.revision), cell(entry.run, 63), cell(entry.feedback_summary, 200)) for entry in history]
    lines = [f"### Revision history (this is revision {revision})", ""]
    if rows:
        lines.extend(table(["Revision", "Run", "Feedback addressed"], sorted(rows, key=lambda row: int(row[0]))))
    else:
        lines.append("_No earlier revisions recorded._")
    return "\n".join(lines)
