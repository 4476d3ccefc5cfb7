"""`atomesh dev` starts the console on the stack and prints its URL with the other components'."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from tests.integration.test_dev_command import dev_stack, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_dev_prints_the_console_url_and_serves_it(tmp_path: Path) -> None:
    with dev_stack(tmp_path, "--only", "kube,console") as (process, _):
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            found = re.match(r"console\s+(http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "no console line in the banner"
        with urllib.request.urlopen(url + "/queue", timeout=30) as response:
            page = response.read().decode()
        assert "Nothing awaits review." in page
        output = stop(process)
    assert process.returncode == 0, output
