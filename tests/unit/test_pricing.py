"""The price table: LiteLLM's file read as data, names as Agents write them."""

from __future__ import annotations

import subprocess
import sys

from atomesh.api.agent import ModelPrice
from atomesh.pricing import price_of


def test_known_models_have_their_list_price_with_or_without_a_provider() -> None:
    price = price_of("claude-sonnet-4-6")
    assert price is not None
    assert price.input_usd_per_mtok > 0
    assert price.output_usd_per_mtok > price.input_usd_per_mtok
    assert price_of("anthropic/claude-sonnet-4-6") == price


def test_a_misspelt_or_private_model_has_no_price() -> None:
    assert price_of("claude-sonet-4-5") is None
    assert price_of("acme/fine-tuned-support-v3") is None
    assert price_of("sample_spec") is None  # the table's own example entry is not a model


def test_a_declared_price_counts_per_million_tokens() -> None:
    price = ModelPrice.model_validate({"inputUSDPerMTok": 3, "outputUSDPerMTok": 15})
    assert price.cost(1_000_000, 100_000) == 4.5


def test_reading_the_table_does_not_import_litellm() -> None:
    code = "import sys; from atomesh.pricing import price_of; price_of('gpt-4o'); print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
