"""Symbolic links and file modes: changes a diff of contents hides, shown on every surface.

A symbolic link's content is only its target, so a link to `/etc/passwd` or `../../secrets` reads as
a one-line file in a diff; an executable bit set on a file makes it runnable by whatever checks out
the branch. Whatever the artifact type, each such change is listed with what it does, in a warning
callout before the artifact's own sections and in the check run's summary. Pure and deterministic.

Links out of bounds (outside the repository or `output.paths`) never get here unless the Agent
allows them (`spec.output.allowOutOfBoundsSymlinks`): the publisher refuses them first.
"""

from __future__ import annotations

from atomesh.review.markdown import code_span, plural, redact
from atomesh.review.surface import ChangedFile
from atomesh.review.truncation import Section

REGULAR, EXECUTABLE, SYMLINK, SUBMODULE = "100644", "100755", "120000", "160000"
TARGET_SHOWN = 200  # characters of a link's target shown


def mode_risks(changed: ChangedFile) -> tuple[str, ...]:
    """What the change does besides its content: a link (and where it points), an executable bit set
    or cleared, a submodule; () for a deleted file or an unchanged ordinary mode."""
    if changed.status == "deleted" or not changed.mode:
        return ()
    risks: list[str] = []
    before = changed.previous_mode if changed.status != "added" else ""
    if changed.mode == SYMLINK:
        target = redact(changed.link_target or "")[:TARGET_SHOWN]
        verb = "replaces a file with a symbolic link" if before and before != SYMLINK else "symbolic link"
        risks.append(f"{verb} to {code_span(target)}" if target else verb)
    elif changed.mode == EXECUTABLE and before != EXECUTABLE:
        risks.append("executable bit set" if before else "added as an executable")
    elif before == EXECUTABLE and changed.mode == REGULAR:
        risks.append("executable bit cleared")
    elif before == SYMLINK:
        risks.append("replaces a symbolic link with a file")
    if changed.mode == SUBMODULE and before != SUBMODULE:
        risks.append("adds a submodule (its code is not in this diff)")
    return tuple(risks)


def mode_section(files: tuple[ChangedFile, ...]) -> Section | None:
    """Links and mode changes as a warning callout, sorted by path; None when there are none."""
    found = sorted((changed.path, risks) for changed in files if (risks := mode_risks(changed)))
    if not found:
        return None
    lead = "\n".join(
        [
            "### Links and file modes",
            "",
            "> [!WARNING]",
            f"> {plural(len(found), 'change')} a diff of contents does not show: check where each link points"
            " and why a file became executable.",
            "",
        ]
    )
    items = tuple(f"- {code_span(path)}: {', '.join(risks)}" for path, risks in found)
    return Section(lead=lead, items=items, unit="link or mode change")
