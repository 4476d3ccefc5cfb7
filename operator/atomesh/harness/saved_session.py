"""Reading a saved harness session: the record a run's agent step left at `<state>/session/...`.

Every harness saves `{"harness": <kind>, ...}` as JSON. A record that is missing, unreadable, not an
object or of another harness (the Agent changed harness between the run and its revision) is not
resumed: the run starts a new session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_saved_session(path: Path | None, harness: str) -> dict[str, Any] | None:
    """The saved record of `harness`, or None when there is none to resume."""
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("harness") != harness:
        return None
    return data
