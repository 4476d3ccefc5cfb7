"""The forge's GitHub errors carry GitHub's reasons, whichever of its error bodies answered."""

from __future__ import annotations

from typing import Any

import pytest
from github import GithubException

from atomesh.forge.retry import Retrier, RetryPolicy


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": "A"}]},
            "Validation Failed: A",
        ),
        (
            {"message": "Validation Failed", "errors": [{"resource": "Label", "code": "invalid", "field": "color"}]},
            "Validation Failed: Label color invalid",
        ),
        (
            {"message": "Unprocessable Entity", "errors": ["Can not approve your own pull request"]},
            "Unprocessable Entity: Can not approve your own pull request",
        ),
        ({"message": "Reference already exists", "status": "422"}, "Reference already exists"),
    ],
)
def test_a_422_names_each_reason(body: dict[str, Any], said: str) -> None:
    error = Retrier(RetryPolicy(), "https://api.github.com").error("do it", GithubException(422, body, {}))
    assert error.status == 422
    assert error.message == f"GitHub do it failed (422): GitHub rejected the request: {said}"
