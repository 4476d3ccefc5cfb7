"""How long `build_surface` takes on large artifacts, and how big the body gets. Run by hand:

python -m bench.review_surface
"""

from __future__ import annotations

import time

from atomesh.review import ChangedFile, CheckOutcome, Provenance, ReviewInput, build_surface

PROVENANCE = Provenance(
    agent="bench",
    namespace="default",
    run="bench-1",
    agent_revision="inline@0",
    spec_hash="0" * 64,
    harness="claude-code",
    model="claude-sonnet-4-6",
    trigger="manual",
)


def _csv(rows: int, shift: int) -> str:
    return "id,name,price\n" + "".join(f"{i},item {i},{(i + shift) % 97}\n" for i in range(shift, rows + shift))


def _yaml(keys: int, value: int) -> str:
    return "".join(f"key{i}:\n  nested: {value if i % 10 == 0 else i}\n" for i in range(keys))


CASES = {
    "code: 20k files, 30 checks x 200 KB output": ReviewInput(
        artifact_type="code",
        purpose="p",
        provenance=PROVENANCE,
        files=tuple(ChangedFile(f"src/m{i:05d}.py", "modified", 3, 1) for i in range(20_000)),
        checks=tuple(CheckOutcome(f"c{i}", i % 2 == 0, i % 2, "x" * 200_000) for i in range(30)),
    ),
    "data: 100k-row CSV": ReviewInput(
        artifact_type="data",
        purpose="p",
        provenance=PROVENANCE,
        files=(ChangedFile("t.csv", "modified", 100_000, 100_000, before=_csv(100_000, 0), after=_csv(100_000, 50)),),
    ),
    "config: 20k-key YAML": ReviewInput(
        artifact_type="config",
        purpose="p",
        provenance=PROVENANCE,
        files=(ChangedFile("v.yaml", "modified", 1, 1, before=_yaml(20_000, 1), after=_yaml(20_000, 2)),),
    ),
    "doc: 2k-section Markdown": ReviewInput(
        artifact_type="doc",
        purpose="p",
        provenance=PROVENANCE,
        files=(
            ChangedFile(
                "d.md",
                "modified",
                1,
                1,
                before="".join(f"## S{i}\n\ntext {i}\n\n" for i in range(2_000)),
                after="".join(f"## S{i}\n\ntext {i * (i % 3)}\n\n" for i in range(2_000)),
            ),
        ),
    ),
}

if __name__ == "__main__":
    for name, inp in CASES.items():
        start = time.perf_counter()
        surface = build_surface(inp)
        elapsed = time.perf_counter() - start
        print(f"{name:45s} {elapsed * 1000:8.0f} ms  body {len(surface.body):6d} chars  {surface.check_conclusion}")
