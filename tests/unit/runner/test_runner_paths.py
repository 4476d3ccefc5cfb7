"""output.paths glob semantics."""

from __future__ import annotations

import pytest

from atomesh.runner.paths import allowed, disallowed


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**", "a/b/c.txt", True),
        ("docs/**", "docs/index.md", True),
        ("docs/**", "docs/guide/deep/page.md", True),
        ("docs/**", "docsx/index.md", False),
        ("docs/", "docs/a/b.md", True),
        ("docs/*.md", "docs/index.md", True),
        ("docs/*.md", "docs/guide/index.md", False),
        ("**/*.md", "README.md", True),
        ("**/*.md", "a/b/c.md", True),
        ("**/*.md", "a/b/c.mdx", False),
        ("src/**/test_*.py", "src/test_a.py", True),
        ("src/**/test_*.py", "src/x/y/test_a.py", True),
        ("src/**/test_*.py", "src/x/y/a_test.py", False),
        ("config/app.yaml", "config/app.yaml", True),
        ("config/app.yaml", "config/app.yml", False),
        ("./config/app.yaml", "config/app.yaml", True),
        ("/config/*", "config/app.yaml", True),
        ("data/?.csv", "data/a.csv", True),
        ("data/?.csv", "data/ab.csv", False),
        ("a.b", "axb", False),  # dots are literal
    ],
)
def test_glob(pattern: str, path: str, expected: bool) -> None:
    assert allowed(path, [pattern]) is expected


def test_disallowed_lists_every_offender_once_sorted() -> None:
    paths = ["src/x.py", "docs/a.md", "Makefile", "src/x.py"]
    assert disallowed(paths, ["docs/**"]) == ["Makefile", "src/x.py"]
    assert disallowed(paths, ["docs/**", "src/*.py", "Makefile"]) == []
