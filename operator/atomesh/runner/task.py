"""The task a harness gets: instructions, purpose, the run input, the output contract, and for a
revision the reviewers' feedback. Pure: the same run file always gives the same task."""

from __future__ import annotations

import json

from atomesh.api.runfile import RunFile
from atomesh.harness.protocol import Task


def _feedback_lines(run: RunFile) -> list[str]:
    lines: list[str] = []
    for item in run.feedback:
        where = f" on {item.path}" + (f":{item.line}" if item.line else "") if item.path else ""
        body = item.body.strip() or "(no text)"
        lines.append(f"- @{item.author}{where}: {body}")
    return lines


def compose_task(run: RunFile, instructions: str) -> Task:
    spec = run.spec
    patterns = ", ".join(f"`{p}`" for p in spec.output.paths)
    sections = [
        f"# Task\n\n{instructions.strip()}",
        f"## Purpose\n\n{spec.purpose.strip()}",
        "## Input\n\n```json\n" + json.dumps(run.input, indent=2, sort_keys=True) + "\n```",
        (
            f"## Output\n\nProduce a {spec.output.artifact} artifact by changing files in this repository. "
            f"Change only files matching {patterns}; changes elsewhere fail the run. "
            "Do not commit, push or open pull requests: atomesh does that and a person reviews the result."
        ),
    ]
    if run.revision_of or run.feedback:
        feedback = "\n".join(_feedback_lines(run)) or "- (no comments were given)"
        sections.append(
            f"## Review feedback (revision {run.revision})\n\n"
            "Your earlier change is checked out. Reviewers asked for changes; address every point:\n\n" + feedback
        )
    if run.attempt is not None:
        sections.append(
            f"## Resumed (attempt {run.attempt})\n\n"
            "This run was paused at its budget and has been resumed. Your earlier changes are in the workspace "
            "and your earlier turns, when kept, come before this message. Continue the task where you stopped; "
            "do not redo work that is done."
        )
    system = (
        f"You are the atomesh agent {run.agent!r}, running unattended in a sandbox; nobody can answer questions. "
        f"Work only inside the current repository and only on files matching {patterns}. "
        "Finish with a short summary of what you changed and why."
    )
    return Task(prompt="\n\n".join(sections) + "\n", system_prompt=system)
