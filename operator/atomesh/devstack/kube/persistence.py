"""Optional on-disk state: one SQLite file that survives a restart with resourceVersions intact.

Writes go through to SQLite as they happen and are committed in small batches shortly after
(one commit per burst, not per write), which keeps the write path fast.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from atomesh.devstack.kube.store import Key, Stored

Obj = dict[str, Any]
FILE_NAME = "kube-api.sqlite3"
COMMIT_DELAY = 0.05


class SqlitePersistence:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (grp TEXT, resource TEXT, namespace TEXT, name TEXT, body BLOB,"
            " PRIMARY KEY (grp, resource, namespace, name))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.commit()
        self._rv = 0
        self._pending: asyncio.TimerHandle | None = None

    def load(self) -> tuple[int, list[tuple[tuple[str, str], Obj]]]:
        """(resourceVersion counter, [(group/resource, object)]), CRDs first so their kinds exist."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
        rv = int(row[0]) if row else 0
        objects = []
        for group, resource, body in self._db.execute(
            "SELECT grp, resource, body FROM objects ORDER BY resource != 'customresourcedefinitions', rowid"
        ):
            obj = json.loads(body)
            rv = max(rv, int(obj["metadata"].get("resourceVersion", 0)))
            objects.append(((group, resource), obj))
        self._rv = rv
        return rv, objects

    def save(self, key: Key, stored: Stored, rv: int) -> None:
        (group, resource), namespace, name = key
        self._db.execute(
            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?)", (group, resource, namespace, name, stored.raw)
        )
        self._touch(rv)

    def delete(self, key: Key, rv: int) -> None:
        (group, resource), namespace, name = key
        self._db.execute(
            "DELETE FROM objects WHERE grp = ? AND resource = ? AND namespace = ? AND name = ?",
            (group, resource, namespace, name),
        )
        self._touch(rv)

    def _touch(self, rv: int) -> None:
        self._rv = rv
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._pending = loop.call_later(COMMIT_DELAY, self.flush)

    def flush(self) -> None:
        self._pending = None
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('resourceVersion', ?)", (str(self._rv),))
        self._db.commit()

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self.flush()
        self._db.close()
