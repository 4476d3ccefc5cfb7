"""The model price table atomesh trusts: LiteLLM's, as the file its package ships (read as data,
without importing LiteLLM, which is heavy and fetches a newer table over the network).

`price_of(model)` is the list price of a model name as an Agent writes it (`claude-sonnet-4-6`,
`anthropic/claude-sonnet-4-6`), or None when the table does not know it: the operator then marks
the Agent CostUnknown, and only a declared `spec.harness.price` lets its cost be counted.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

from atomesh.api.agent import ModelPrice

TABLE = "model_prices_and_context_window_backup.json"


@functools.cache
def _table() -> dict[str, Any]:
    # find_spec locates the package without running its __init__ (which would import all of LiteLLM).
    spec = importlib.util.find_spec("litellm")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError("LiteLLM is not installed: atomesh's price table is the file it ships")
    table: dict[str, Any] = json.loads((Path(locations[0]) / TABLE).read_text(encoding="utf-8"))
    return table


def price_of(model: str) -> ModelPrice | None:
    """The model's price per million tokens, looked up as written and without a `provider/` prefix."""
    table = _table()
    for name in (model, model.partition("/")[2]):
        entry = table.get(name) if name and name != "sample_spec" else None
        if isinstance(entry, dict) and "input_cost_per_token" in entry and "output_cost_per_token" in entry:
            return ModelPrice(
                input_usd_per_mtok=float(entry["input_cost_per_token"]) * 1_000_000,
                output_usd_per_mtok=float(entry["output_cost_per_token"]) * 1_000_000,
            )
    return None
