"""Reading a container's log file the way `kubectl logs` asks for it (tail, limit, follow)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

_CHUNK = 64 * 1024
_FOLLOW_POLL = 0.1


def tail_offset(path: Path, lines: int) -> int:
    """Byte offset where the last `lines` lines of the file begin."""
    data = path.read_bytes() if path.is_file() else b""
    if lines <= 0:
        return len(data)
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    position = end
    for _ in range(lines):
        position = data.rfind(b"\n", 0, position)
        if position < 0:
            return 0
    return position + 1


def _read(path: Path, offset: int, size: int) -> bytes:
    if not path.is_file():
        return b""
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


async def stream_log(
    path: Path,
    *,
    tail_lines: int | None = None,
    limit_bytes: int | None = None,
    follow: bool = False,
    finished: Callable[[], bool] = lambda: True,
) -> AsyncIterator[bytes]:
    """Chunks of the log; with `follow`, keeps reading until `finished()` and the end of file."""
    offset = tail_offset(path, tail_lines) if tail_lines is not None else 0
    remaining = limit_bytes
    while True:
        done = finished()  # read before the file, so nothing written before the end is missed
        chunk = _read(path, offset, _CHUNK if remaining is None else min(_CHUNK, remaining))
        if chunk:
            offset += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
            if remaining == 0:
                return
            continue
        if not follow or done:
            return
        await asyncio.sleep(_FOLLOW_POLL)
