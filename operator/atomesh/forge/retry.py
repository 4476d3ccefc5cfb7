"""Calling GitHub patiently: one retry loop for rate limits, server errors and dropped connections.

PyGithub's own urllib3 retries sleep on the wall clock where no one sees them; this loop makes
every wait explicit, bounded and injectable (tests pass a recording `sleep`):

- primary rate limit (403/429 with `x-ratelimit-remaining: 0`): wait until `x-ratelimit-reset`
  (on the injected clock) plus one second;
- secondary rate limit (403/429 with `retry-after`, or GitHub's secondary-limit message):
  wait `retry-after` seconds, else `secondary_wait` doubling per attempt;
- 500/502/503/504 and dropped connections: exponential backoff from `base_delay`.

Each wait is capped at `max_wait`; after `max_attempts` the last error is raised as
`GitHubForgeError`, whose message names what was attempted and how to fix it (never a secret).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import GithubException

from atomesh.api import constants as c
from atomesh.forge.errors import ForgeAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
TRANSIENT = (GithubException, requests.exceptions.ConnectionError, requests.exceptions.Timeout)


class GitHubForgeError(ForgeAPIError):
    """A GitHub call failed for good; the message says what was attempted and how to fix it."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    secondary_wait: float = 60.0
    max_wait: float = 900.0


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _message(exc: GithubException) -> str:
    """GitHub's message and the reasons in its `errors`: a 422 says only "Validation Failed" in
    `message` and why in `errors` (objects with `message`, or `field` and `code`; or strings)."""
    data = exc.data
    if not isinstance(data, dict):
        return str(data or "")
    reasons = [_reason(error) for error in data.get("errors") or []]
    return ": ".join([str(data.get("message", "")), *[r for r in reasons if r]])


def _reason(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    return " ".join(str(error[key]) for key in ("resource", "field", "code") if error.get(key))


class Retrier:
    def __init__(
        self,
        policy: RetryPolicy,
        api_url: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.api_url = api_url
        self._sleep = sleep
        self._clock = clock

    def delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc`, or None when it is not worth retrying."""
        backoff = min(self.policy.base_delay * 2.0**attempt, self.policy.max_delay)
        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return backoff
        if not isinstance(exc, GithubException):
            return None
        headers = lower_headers(exc.headers)
        if exc.status in (403, 429):
            if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
                return max(0.0, float(headers["x-ratelimit-reset"]) - self._clock()) + 1.0
            if headers.get("retry-after", "").isdigit():
                return float(headers["retry-after"])
            if exc.status == 429 or "secondary rate limit" in _message(exc).lower():
                return self.policy.secondary_wait * 2.0**attempt
            return None
        if exc.status in RETRYABLE_STATUS:
            return backoff
        return None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        for attempt in range(self.policy.max_attempts):
            try:
                return fn()
            except TRANSIENT as exc:
                delay = self.delay(exc, attempt)
                if delay is None or attempt == self.policy.max_attempts - 1:
                    raise self.error(what, exc) from exc
                delay = min(delay, self.policy.max_wait)
                status = getattr(exc, "status", type(exc).__name__)
                log.warning("GitHub %s answered %s; retrying in %.1fs (attempt %d)", what, status, delay, attempt + 1)
                self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def error(self, what: str, exc: Exception) -> GitHubForgeError:
        if not isinstance(exc, GithubException):
            return GitHubForgeError(f"GitHub {what}: cannot reach {self.api_url} ({type(exc).__name__})")
        hints = {
            401: f"the token was rejected; check {c.ENV_FORGE_TOKEN} (or the GitHub App credentials)",
            403: "the token lacks permission or the rate limit outlasted the retries",
            404: "not found, or the token cannot see it; check the repository name and the token's access",
            422: "GitHub rejected the request",
        }
        hint = hints.get(exc.status, "GitHub returned an error")
        detail = _message(exc)
        return GitHubForgeError(
            f"GitHub {what} failed ({exc.status}): {hint}" + (f": {detail}" if detail else ""), exc.status
        )
