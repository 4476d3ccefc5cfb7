"""What a run that changed nothing says (runner.publish.no_change_message): the agent's own summary,
on one line and bounded, since a revision's hand-back comment on the pull request quotes it."""

from __future__ import annotations

from atomesh.runner.publish import SUMMARY_SHOWN, no_change_message


def test_the_agents_summary_says_why() -> None:
    assert no_change_message("The guide already\ncovers this.\n") == (
        "the agent changed nothing; it said: The guide already covers this."
    )


def test_without_a_summary_it_only_says_nothing_changed() -> None:
    assert no_change_message("  \n") == "the agent changed nothing"


def test_a_long_summary_is_cut() -> None:
    message = no_change_message("word " * 1000)
    assert message.endswith("…")
    assert len(message.split("it said: ", 1)[1]) == SUMMARY_SHOWN
