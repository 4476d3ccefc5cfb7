"""Review inputs shared by the golden and property tests: one realistic case per surface."""

from __future__ import annotations

from atomesh.review import ChangedFile, CheckOutcome, Provenance, ReviewInput, RevisionEntry, Validation

PROVENANCE = Provenance(
    agent="fixer",
    namespace="team-a",
    run="fixer-20260101-0900-abcde",
    agent_revision="main@sha1:0123456789abcdef0123456789abcdef01234567",
    spec_hash="5f2b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    harness="claude-code",
    model="claude-sonnet-4-5",
    trigger="mesh:release/triage-to-fix",
    input_tokens=12_345,
    output_tokens=678,
    cost_usd=0.0421,
    turns=7,
)

_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def code_case() -> ReviewInput:
    """A bug fix touching source, tests, CI, a lockfile and (wrongly) a key file; one check fails."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Fix bugs reported in issues, with a regression test.",
        summary="Fix off-by-one in pagination\n\nThe last page was dropped when the total was a multiple of the size.",
        run_input={"issue": 42, "repo": "demo/sample-app"},
        files=(
            ChangedFile("src/app/pages.py", "modified", 3, 1, before="a\n", after="b\n"),
            ChangedFile("tests/test_pages.py", "added", 20, 0, after="def test():\n    pass\n"),
            ChangedFile(".github/workflows/ci.yml", "modified", 2, 2, before="on: push\n", after="on: [push]\n"),
            ChangedFile("package-lock.json", "modified", 120, 80),
            ChangedFile("deploy/id_rsa", "added", 3, 0, after=_PRIVATE_KEY),
            ChangedFile("src/app/util.py", "renamed", 0, 0, previous_path="src/app/helpers.py"),
            ChangedFile("docs/logo.png", "added", binary=True),
        ),
        checks=(
            CheckOutcome("unit tests", passed=True, exit_code=0, output_tail="12 passed in 0.31s\n"),
            CheckOutcome("lint", passed=False, exit_code=1, output_tail="src/app/pages.py:3:1: F401 unused import\n"),
        ),
        extra_labels=("bug", "atomesh", "team-a"),
    )


_README_BEFORE = """# Sample app

Intro text.

## Install

Run `pip install sample-app`.

## Usage

Call `run()`.

### Options

None yet.

## Old section

To be removed.
"""

_README_AFTER = """# Sample app

Intro text.

## Install

Run `pip install sample-app` (Python 3.11 or newer).

```bash
# a heading inside code is not a section
pip install sample-app
```

## Usage

Call `run()`.

### Options

None yet.

### Configuration

Set `SAMPLE_MODE=fast`. <!-- hidden note for the merger -->

## FAQ

| Question | Answer |
|---|---|
| Why? | Because. |
"""


def doc_case() -> ReviewInput:
    """A README rewrite (sections added, changed, removed), a new guide, and a plain-text file."""
    return ReviewInput(
        artifact_type="doc",
        provenance=PROVENANCE,
        purpose="Keep the user documentation current.",
        summary="Document the configuration and add an FAQ",
        files=(
            ChangedFile("README.md", "modified", 14, 3, before=_README_BEFORE, after=_README_AFTER),
            ChangedFile("docs/guide.md", "added", 5, 0, after="# Guide\n\nStep one.\n\n## Next\n\nStep two.\n"),
            ChangedFile("NOTICE.txt", "modified", 1, 1, before="Copyright 2025\n", after="Copyright 2026\n"),
            ChangedFile("docs/old.md", "deleted", 0, 4, before="# Old\n\nGone.\n"),
        ),
    )


_DEPLOY_BEFORE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    atomesh.io/owner: team-a
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.0
        - name: sidecar
          image: envoy:1.29
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80
"""

_DEPLOY_AFTER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    atomesh.io/owner: team-b
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.1
          resources: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: shop
data:
  MODE: fast
"""


def config_case() -> ReviewInput:
    """A manifest change across documents, a JSON settings change, a broken YAML file and validations."""
    return ReviewInput(
        artifact_type="config",
        provenance=PROVENANCE,
        purpose="Tune deployments for load.",
        files=(
            ChangedFile("deploy/web.yaml", "modified", 10, 12, before=_DEPLOY_BEFORE, after=_DEPLOY_AFTER),
            ChangedFile(
                "settings.json",
                "modified",
                3,
                2,
                before='{"timeout": 30, "features": {"beta": false}, "hosts": ["a", "b"]}',
                after='{"timeout": 45, "features": {"beta": true, "gamma": null}, "hosts": ["a"]}',
            ),
            ChangedFile("values.yaml", "modified", 1, 1, before="replicas: 2\n", after="replicas: [3\n"),
            ChangedFile("README.md", "modified", 1, 0, before="x\n", after="y\n"),
        ),
        validations=(
            Validation("deploy/web.yaml", "kubernetes-validate 1.37", ok=True),
            Validation(
                "deploy/web.yaml",
                "json-schema",
                ok=False,
                messages=("spec.replicas: 3 is greater than the maximum of 2",),
            ),
        ),
    )


_CSV_BEFORE = "sku,name,price,stock\nA1,apple,1.00,10\nB2,banana,0.50,20\nC3,cherry,3.00,5\n"
_CSV_AFTER = "sku,name,price,stock,origin\nA1,apple,1.10,10,ES\nB2,banana,0.50,20,EC\nD4,date,2.00,7,IL\n"


def data_case() -> ReviewInput:
    """A keyed CSV change (rows added/removed/changed, a column added), a TSV with an id column."""
    return ReviewInput(
        artifact_type="data",
        provenance=PROVENANCE,
        purpose="Keep the product catalogue current.",
        summary="Refresh prices and add origins",
        files=(
            ChangedFile("data/products.csv", "modified", 4, 3, before=_CSV_BEFORE, after=_CSV_AFTER),
            ChangedFile(
                "data/users.tsv",
                "modified",
                2,
                1,
                before="name\tuser_id\nann\t1\nbob\t2\n",
                after="name\tuser_id\nann\t1\nbobby\t2\ncy\t3\n",
            ),
        ),
        checks=(CheckOutcome("schema", passed=True, output_tail="2 tables valid\n"),),
    )


def revision_case() -> ReviewInput:
    """A second revision: the history lists the feedback each revision addressed."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Fix bugs reported in issues, with a regression test.",
        summary="Fix off-by-one in pagination",
        files=(ChangedFile("src/app/pages.py", "modified", 4, 1, before="a\n", after="c\n"),),
        revision=2,
        history=(
            RevisionEntry(revision=1, run="fixer-20260101-0900-abcde-r1", feedback_summary="Add a test | please"),
            RevisionEntry(revision=0, run="fixer-20260101-0900-abcde", feedback_summary="Handle empty pages too"),
        ),
    )


def huge_code_case(files: int = 5_000, output: int = 200_000) -> ReviewInput:
    """Far more than fits in a body: thousands of files and enormous check output."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Reformat the whole repository. " * 40,
        summary="Reformat everything\n" + "details " * 2_000,
        files=tuple(ChangedFile(f"src/module_{index:05d}.py", "modified", 3, 3) for index in range(files)),
        checks=tuple(
            CheckOutcome(f"check-{index}", passed=index % 2 == 0, exit_code=index % 2, output_tail="x" * output)
            for index in range(30)
        ),
        run_input={"paths": [f"src/module_{index:05d}.py" for index in range(2_000)]},
    )


def links_case() -> ReviewInput:
    """A doc artifact with a symbolic link within output.paths and executable bits set and cleared."""
    return ReviewInput(
        artifact_type="doc",
        provenance=PROVENANCE,
        purpose="Keep the handbook's versions tidy.",
        summary="Point latest at v2 and make the build script runnable.",
        files=(
            ChangedFile("docs/v2.md", "added", 3, 0, after="# v2\n\nNew.\n", mode="100644"),
            ChangedFile(
                "docs/latest.md",
                "modified",
                1,
                1,
                before="# v1\n",
                mode="120000",
                previous_mode="100644",
                link_target="v2.md",
            ),
            ChangedFile("docs/current", "added", 1, 0, mode="120000", link_target="../docs/v2.md"),
            ChangedFile("docs/build.sh", "modified", 0, 0, mode="100755", previous_mode="100644"),
            ChangedFile("docs/new.sh", "added", 2, 0, after="#!/bin/sh\necho hi\n", mode="100755"),
            ChangedFile("docs/old.sh", "modified", 0, 0, mode="100644", previous_mode="100755"),
        ),
    )


CASES = {
    "links_and_modes": links_case,
    "code": code_case,
    "doc": doc_case,
    "config": config_case,
    "data": data_case,
    "revision_history": revision_case,
    "truncation": lambda: huge_code_case(files=3_000, output=5_000),
}
