"""Team allow-lists of event triggers (`authorization.teams`): who is asked about, in which order, and
what an active, pending or missing membership decides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atomesh.api.triggers import TriggerAuthorization
from atomesh.core.triggers_auth import authorise, needs_permission, teams_to_ask
from atomesh.core.triggers_github import Facts

REPO = "demo/sample-app"
RULE = TriggerAuthorization.model_validate({"teams": ["demo/triage", "demo/maintainers"]})
READER = Facts(event="issue_comment", repo=REPO, sender="ada")


def test_a_writer_needs_no_team_lookup() -> None:
    assert needs_permission(RULE, READER)
    assert teams_to_ask(RULE, READER, "write") == ()
    assert authorise(RULE, READER, "write") is None


def test_a_reader_is_asked_about_the_teams_in_order_and_passes_as_an_active_member() -> None:
    assert teams_to_ask(RULE, READER, "read") == ("demo/triage", "demo/maintainers")
    assert authorise(RULE, READER, "read", ("demo/maintainers",)) is None


def test_a_reader_in_none_of_the_teams_is_refused_naming_them() -> None:
    refusal = authorise(RULE, READER, "read", ())
    assert refusal is not None
    assert refusal.message == (
        f"@ada needs write access to {REPO} (has read) or membership of demo/triage, demo/maintainers"
    )
    assert not refusal.quiet


def test_a_bot_in_a_team_is_still_refused_quietly_unless_bots_are_allowed() -> None:
    bot = Facts(event="issue_comment", repo=REPO, sender="helper[bot]", sender_is_bot=True)
    assert teams_to_ask(RULE, bot, "none") == ()
    refusal = authorise(RULE, bot, "none", ("demo/triage",))
    assert refusal is not None
    assert refusal.quiet


@pytest.mark.parametrize("team", ["triage", "demo/", "/triage", "demo/tri age", "-demo/triage"])
def test_a_team_is_named_org_slash_slug(team: str) -> None:
    with pytest.raises(ValidationError, match="teams"):
        TriggerAuthorization.model_validate({"teams": [team]})
