"""The pod's directory on disk: volumes written, HOME and TMPDIR created (the "sandbox")."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

from atomesh.devstack.kubelet.layout import PodLayout
from atomesh.devstack.kubelet.volumes import Resources, build_volume_files


def create_sandbox(layout: PodLayout, pod: Mapping[str, Any], resources: Resources) -> None:
    """Materialise every volume of `pod`; PodConfigError (before anything is written) if one
    cannot be built, so a retry starts clean."""
    volumes = [
        (volume.get("name", ""), build_volume_files(pod, volume, resources))
        for volume in (pod.get("spec") or {}).get("volumes") or []
    ]
    for path in (layout.home, layout.tmp, layout.root / "logs", layout.root / "termination"):
        path.mkdir(parents=True, exist_ok=True)
    for name, files in volumes:
        directory = layout.volume(name)
        directory.mkdir(parents=True, exist_ok=True)
        for item in files:
            target = directory / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.data)
            target.chmod(item.mode)


def remove_sandbox(layout: PodLayout) -> None:
    shutil.rmtree(layout.root, ignore_errors=True)
