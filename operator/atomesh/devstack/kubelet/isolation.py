"""What keeps one container's process from reading another's secrets on the local kubelet.

A cluster gives each container its own PID namespace (no `shareProcessNamespace`), so a step cannot
even see another step's processes. Here every container is a process of the kubelet's user. Two
measures need no root: the model proxy makes itself non-dumpable (its /proc/<pid>/environ, mem and
ptrace are then closed to other processes of the same user), and each container starts in a user
namespace of its own (`unshare --user --map-current-user`), so even a kubelet running as root with
CAP_SYS_PTRACE hands its containers no capability over the host's processes. What stays open: files
the kubelet's user can read, and the environment of dumpable processes of the same user (the
operator and emulators of `atomesh dev`), which only separate users or containers close.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

UNSHARE_FLAGS = ("--user", "--map-current-user")


@functools.cache
def user_namespace_prefix() -> tuple[str, ...]:
    """The argv prefix that starts a process in a new user namespace, or () where none can be made
    (no `unshare`, an old util-linux, or unprivileged user namespaces disabled)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        probe = subprocess.run([unshare, *UNSHARE_FLAGS, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return (unshare, *UNSHARE_FLAGS) if probe.returncode == 0 else ()
