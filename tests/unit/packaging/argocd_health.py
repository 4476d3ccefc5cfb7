"""Argo CD health checks of the atomesh kinds: run them as Argo CD does, and render argocd-cm.

Argo CD runs `health.lua` with the object in the global `obj` and only the base, table,
string and math libraries (gopher-lua, Lua 5.1 semantics). The same scripts are rendered into
the `argocd-cm` snippet users add; regenerate it after editing a script with

    python tests/unit/packaging/argocd_health.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import lupa.lua51

ROOT = Path(__file__).resolve().parents[3]
CUSTOMIZATIONS = ROOT / "charts" / "atomesh" / "argocd"
ARGOCD_CM = ROOT / "docs" / "argocd" / "argocd-cm.yaml"
GROUP = "atomesh.io"
KINDS = ("Agent", "Mesh", "AgentRun")
HEALTH_STATUSES = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})

# Everything lupa opens beyond what Argo CD gives a health script.
_NOT_IN_ARGOCD = ("io", "os", "package", "require", "debug", "coroutine", "dofile", "loadfile", "module", "python")


def kind_dir(kind: str) -> Path:
    return CUSTOMIZATIONS / GROUP / kind


def sandbox() -> lupa.lua51.LuaRuntime:
    """A Lua 5.1 runtime with only the libraries Argo CD opens, so a script that reaches for
    os or io fails here as it would in Argo CD."""
    lua = lupa.lua51.LuaRuntime(register_eval=False, register_builtins=False, unpack_returned_tuples=True)
    env = lua.globals()
    for name in _NOT_IN_ARGOCD:
        env[name] = None
    return lua


def as_json(obj: Any) -> Any:
    """Objects reach Argo CD as JSON: fail on anything YAML parsed into a non-JSON type (a bare
    timestamp, say) instead of passing it to Lua as a Python object."""
    return json.loads(json.dumps(obj))


def run_health(script: str, obj: dict[str, Any]) -> dict[str, Any]:
    lua = sandbox()
    lua.globals()["obj"] = lua.table_from(as_json(obj), recursive=True)
    result = lua.execute(script)
    if result is None:
        raise AssertionError("health.lua returned nothing; it must return a table with status and message")
    return {str(key): value for key, value in result.items()}


def render_argocd_cm() -> str:
    """The argocd-cm ConfigMap carrying every health script, as a block scalar per kind.

    It is also a valid patch: `kubectl -n argocd patch configmap argocd-cm --patch-file ...`."""
    lines = [
        "# Argo CD health checks for atomesh.io kinds. Generated from",
        "# charts/atomesh/argocd/atomesh.io/<Kind>/health.lua by",
        "# `python tests/unit/packaging/argocd_health.py --write`; a test keeps it in sync.",
        "# Apply: kubectl -n argocd patch configmap argocd-cm --patch-file docs/argocd/argocd-cm.yaml",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: argocd-cm",
        "  namespace: argocd",
        "  labels:",
        "    app.kubernetes.io/name: argocd-cm",
        "    app.kubernetes.io/part-of: argocd",
        "data:",
    ]
    for kind in KINDS:
        script = (kind_dir(kind) / "health.lua").read_text()
        lines.append(f"  resource.customizations.health.{GROUP}_{kind}: |")
        lines.extend(f"    {line}" if line else "" for line in script.splitlines())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        ARGOCD_CM.write_text(render_argocd_cm())
    else:
        sys.stdout.write(render_argocd_cm())
