"""The sample repository `demo/sample-app` that `atomesh dev` and the tests start from: a small
Python package with a test, a README, a changelog, docs, configuration (including a Kubernetes
Deployment) and a CSV data file, so every artifact type (code, doc, config, data) has something
to change."""

from __future__ import annotations

from typing import Final

SAMPLE_REPO: Final = "demo/sample-app"

SAMPLE_FILES: Final[dict[str, str]] = {
    ".gitignore": """__pycache__/
*.py[cod]
.pytest_cache/
*.egg-info/
""",
    "README.md": """# sample-app

A tiny greeting service used to try atomesh agents end to end.

## Layout

- `src/sample_app/` — the package
- `tests/` — pytest tests
- `docs/` — user documentation
- `config/` — application settings and the Kubernetes Deployment
- `data/` — reference data (CSV)

## Development

```sh
pip install -e . && pytest
```
""",
    "pyproject.toml": """[project]
name = "sample-app"
version = "0.1.0"
requires-python = ">=3.11"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
pythonpath = ["src"]
""",
    "src/sample_app/__init__.py": '''"""A tiny greeting service."""

from .greeting import greet

__all__ = ["greet"]
''',
    "src/sample_app/greeting.py": '''"""Greetings, politely."""


def greet(name: str) -> str:
    """Return a greeting for `name`."""
    return f"Hello, {name}!"
''',
    "tests/test_greeting.py": """from sample_app import greet


def test_greet() -> None:
    assert greet("Ada") == "Hello, Ada!"
""",
    "docs/index.md": """# sample-app documentation

sample-app greets people by name.

## Installation

Install it with pip.

## Usage

See [usage](usage.md).
""",
    "docs/usage.md": """# Usage

```python
from sample_app import greet
print(greet("Ada"))
```

## Configuration

Settings live in `config/app.yaml`.
""",
    "config/app.yaml": """greeting:
  language: en
  punctuation: "!"
server:
  port: 8080
  workers: 2
features:
  metrics: true
""",
    "config/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: sample-app
  labels:
    app.kubernetes.io/name: sample-app
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: sample-app
  template:
    metadata:
      labels:
        app.kubernetes.io/name: sample-app
    spec:
      containers:
        - name: app
          image: ghcr.io/demo/sample-app:0.1.0
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              memory: 128Mi
""",
    "CHANGELOG.md": """# Changelog

All notable changes to sample-app are documented here. The format follows
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/).

## [Unreleased]

## [0.1.0] - 2026-01-15

### Added

- `greet(name)` returns a friendly greeting.
""",
    "data/cities.csv": """city,country,population
Berlin,DE,3755251
Lisbon,PT,545923
Nairobi,KE,4397073
Osaka,JP,2752412
Quito,EC,2800388
""",
    ".github/workflows/ci.yml": """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -e . pytest && pytest
""",
}
