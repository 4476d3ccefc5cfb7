"""Keeping a body under GitHub's size limit by dropping whole items, with a visible note.

A renderer returns `Section`s: a lead (heading, intro, table header) that is always shown, items
(table rows, per-file blocks) that may be dropped from the end, and a closing tail. `fit` shares
the budget between sections by water-filling: small sections are shown whole, the largest ones
give up their last items first, and every cut says how much was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atomesh.review.markdown import ELLIPSIS, plural

# GitHub rejects PR bodies and check-run summaries longer than 65,536 characters. Keep a margin:
# GitHub counts characters differently from Python for some code points.
GITHUB_TEXT_LIMIT = 65_536
BODY_BUDGET = 60_000
SECTION_GAP = "\n\n"


@dataclass(frozen=True)
class Section:
    """A piece of a body that can shrink by dropping its last items."""

    lead: str
    items: tuple[str, ...] = ()
    unit: str = "item"
    joiner: str = "\n"
    tail: str = ""

    def render(self, shown: int | None = None) -> str:
        """The section with its first `shown` items (all by default) and a note about the rest."""
        count = len(self.items) if shown is None else shown
        text = self.lead
        if count:
            text += (self.joiner if text else "") + self.joiner.join(self.items[:count])
        hidden = len(self.items) - count
        if hidden:
            text += f"\n\n_{ELLIPSIS} {plural(hidden, 'more ' + self.unit)} not shown (body size limit)._"
        if self.tail:
            text += ("\n\n" if text else "") + self.tail
        return text


def _shrink(section: Section, share: int) -> str:
    """The longest rendering of `section` within `share` characters (binary search on items)."""
    low, high = 0, len(section.items)
    while low < high:
        middle = (low + high + 1) // 2
        if len(section.render(middle)) <= share:
            low = middle
        else:
            high = middle - 1
    text = section.render(low)
    if len(text) > share:
        # Even the lead does not fit: cut it hard, as a last resort that keeps the limit.
        note = f"\n\n_{ELLIPSIS} section cut (body size limit)._"
        text = text[: max(share - len(note), 0)] + note if share > len(note) else ""
    return text


def fit(sections: Sequence[Section], budget: int) -> list[str]:
    """Renderings of `sections` whose total length (joined by SECTION_GAP) stays within `budget`."""
    full = [section.render() for section in sections]
    available = budget - len(SECTION_GAP) * max(len(sections) - 1, 0)
    if sum(len(text) for text in full) <= available:
        return full
    shown = [""] * len(sections)
    remaining = max(available, 0)
    order = sorted(range(len(sections)), key=lambda index: (len(full[index]), index))
    for position, index in enumerate(order):
        share = remaining // (len(order) - position)
        text = full[index] if len(full[index]) <= share else _shrink(sections[index], share)
        shown[index] = text
        remaining -= len(text)
    return shown


def join(texts: Sequence[str]) -> str:
    """Sections joined with blank lines; empty ones left out."""
    return SECTION_GAP.join(text for text in texts if text)
