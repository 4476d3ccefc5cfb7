"""The sample repository `demo/sample-app` that `atomesh dev` and the tests start from: a small
Python package with a test and pinned requirements, a README, a changelog, docs, configuration,
a Kubernetes Deployment with its measured usage, CSV data (one export in need of cleaning), a
landing page and a pricing workbook (seed_site.py), so every example agent in agents/ and every
artifact type (code, doc, config, data, visual, spreadsheet) has something to change.

The people the example agents ask for review (`SAMPLE_REVIEWERS`) are collaborators of the
repository, so requesting their review succeeds as it would on GitHub."""

from __future__ import annotations

from typing import Final

from .seed_site import SITE_FILES

SAMPLE_REPO: Final = "demo/sample-app"
# login -> permission on SAMPLE_REPO: the `review.reviewers` of the agents in agents/.
SAMPLE_REVIEWERS: Final[dict[str, str]] = {"maintainer": "write", "data-owner": "write"}

SAMPLE_FILES: Final[dict[str, str | bytes]] = {
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
- `config/` — application settings
- `deploy/` — the Kubernetes Deployment and its measured usage
- `data/` — reference data and customer exports (CSV)
- `requirements.txt` — pinned runtime dependencies

## Development

```sh
pip install -r requirements.txt -e . && pytest
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
    "deploy/deployment.yaml": """# The web server of sample-app. Requests and limits are the guesses made at launch.
apiVersion: apps/v1
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
    "deploy/USAGE.md": """# Measured usage

Usage of container `app` (Deployment `sample-app`), p95 over the last four weeks:

| container | cpu p95 | memory p95 |
|---|---|---|
| app | 250m | 120Mi |

The server answers `GET /healthz` on port 8080 once it can take requests.
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
    "data/customers.csv": """Customer ID,Full Name,Signup Date,Country
1, Ada Lovelace ,2025/12/10,GB
2,Grace Hopper,2025-11-03,US
3,Alan Turing,N/A,GB
2,Grace Hopper,2025-11-03,US
4,Katherine Johnson,3 Jan 2026,-
""",
    "requirements.txt": """# Runtime dependencies of sample-app, pinned.
PyYAML==6.0.1
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
    **SITE_FILES,
}
