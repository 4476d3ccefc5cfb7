"""Headers the API sends with every response: a unique `request-id` and the rate-limit state
(`anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
resets in RFC 3339), and `retry-after` (seconds) on a 429 or 529.

The emulator never limits anyone: it counts requests and tokens in a one-minute window against
generous limits, so the headers move as a real account's would and a client that reads them sees
plausible values.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits
REQUESTS_PER_MINUTE = 4_000
INPUT_TOKENS_PER_MINUTE = 2_000_000
OUTPUT_TOKENS_PER_MINUTE = 400_000


def request_id() -> str:
    """Like the API's `req_018EeWyXxfu5pfWkrYcMdjWG`: unique per response."""
    return "req_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass
class RateWindow:
    """Requests and tokens spent in the current minute."""

    minute: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _roll(self, now: float) -> None:
        minute = int(now // 60)
        if minute != self.minute:
            self.minute, self.requests, self.input_tokens, self.output_tokens = minute, 0, 0, 0

    def spend(self, input_tokens: int = 0, output_tokens: int = 0) -> dict[str, str]:
        """Count one request (and its tokens) and return the rate-limit headers after it."""
        now = time.time()
        with self._lock:
            self._roll(now)
            self.requests += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            reset = datetime.fromtimestamp((self.minute + 1) * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            spent = {
                "requests": (REQUESTS_PER_MINUTE, self.requests),
                "input-tokens": (INPUT_TOKENS_PER_MINUTE, self.input_tokens),
                "output-tokens": (OUTPUT_TOKENS_PER_MINUTE, self.output_tokens),
                "tokens": (
                    INPUT_TOKENS_PER_MINUTE + OUTPUT_TOKENS_PER_MINUTE,
                    self.input_tokens + self.output_tokens,
                ),
            }
        headers: dict[str, str] = {}
        for name, (limit, used) in spent.items():
            headers[f"anthropic-ratelimit-{name}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(max(0, limit - used))
            headers[f"anthropic-ratelimit-{name}-reset"] = reset
        return headers
