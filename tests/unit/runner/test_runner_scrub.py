"""Credentials are masked in every encoding the runner could print them in."""

from __future__ import annotations

import base64

from atomesh.forge.git import auth_env, basic_auth
from atomesh.runner.scrub import MASK, Scrubber


def test_masks_plain_and_header_forms() -> None:
    token = "ghp_plantedToken1234567890"
    scrub = Scrubber([token, None, ""])
    header = auth_env(token)["GIT_CONFIG_VALUE_0"]
    assert scrub(f"push failed with {token}") == f"push failed with {MASK}"
    assert token not in scrub(header)
    assert basic_auth(token).split()[1] not in scrub(header)
    assert scrub(base64.b64encode(token.encode()).decode()) == MASK
    assert scrub("nothing to hide") == "nothing to hide"


def test_short_values_are_not_masked_everywhere() -> None:
    assert Scrubber(["ab"])("table") == "table"


def test_auth_env_without_token_has_no_header() -> None:
    assert "GIT_CONFIG_VALUE_0" not in auth_env(None)
    assert auth_env(None)["GIT_TERMINAL_PROMPT"] == "0"
